using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Audit;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Data.InventorySources;
using ProvisioningFleet.Data.Notifications;
using ProvisioningFleet.Data.Policy;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Data;

/// <summary>The service's PostgreSQL database: tables and columns in snake_case, enums stored by name.</summary>
public class FleetDbContext(DbContextOptions<FleetDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<DeviceStateChange> DeviceStateChanges => Set<DeviceStateChange>();
    public DbSet<Credential> Credentials => Set<Credential>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Remediation> Remediations => Set<Remediation>();
    public DbSet<Sweep> Sweeps => Set<Sweep>();
    public DbSet<FleetPolicy> Policies => Set<FleetPolicy>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<NotificationChannel> NotificationChannels => Set<NotificationChannel>();
    public DbSet<NotificationEvent> NotificationEvents => Set<NotificationEvent>();
    public DbSet<NotificationDelivery> NotificationDeliveries => Set<NotificationDelivery>();
    public DbSet<InventorySource> InventorySources => Set<InventorySource>();
    public DbSet<InventorySyncRun> InventorySyncRuns => Set<InventorySyncRun>();

    /// <summary>The ASP.NET Core Data Protection key ring; each key is itself encrypted outside the database's reach.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>The one place the provider and conventions are chosen: the host, migrations and tests all use it.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(typeof(FleetDbContext).Assembly.GetName().Name))
            .UseSnakeCaseNamingConvention();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasPostgresExtension("pg_trgm");
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FleetDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        StoreByName<DeviceState>(configurationBuilder);
        StoreByName<CimTransport>(configurationBuilder);
        StoreByName<CimAuthentication>(configurationBuilder);
        StoreByName<CimErrorCategory>(configurationBuilder);
        StoreByName<ApiKeyRole>(configurationBuilder);
        StoreByName<RemediationTrigger>(configurationBuilder);
        StoreByName<RemediationOutcome>(configurationBuilder);
        StoreByName<RemediationSkipReason>(configurationBuilder);
        StoreByName<SweepStatus>(configurationBuilder);
        StoreByName<SweepTrigger>(configurationBuilder);
        StoreByName<NotificationChannelKind>(configurationBuilder);
        StoreByName<NotificationDeliveryStatus>(configurationBuilder);
        StoreByName<InventoryRemovalAction>(configurationBuilder);
        StoreByName<InventorySyncStatus>(configurationBuilder);
        StoreByName<InventorySyncTrigger>(configurationBuilder);
    }

    // By name, so that the rows read the same as the API and a reordered enum cannot change their meaning.
    private static void StoreByName<TEnum>(ModelConfigurationBuilder configurationBuilder) where TEnum : struct, Enum
    {
        configurationBuilder.Properties<TEnum>().HaveConversion<string>();
        configurationBuilder.Properties<TEnum?>().HaveConversion<string>();
    }
}
