using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Storage;

public static class FleetDataExtensions
{
    public const string ConnectionStringName = "Fleet";

    /// <summary>
    /// The database named by <c>ConnectionStrings__Fleet</c> (demo mode sets it to its private cluster
    /// before this runs). The schema is migrated, and with <paramref name="createDatabase"/> the database
    /// created, before the host starts.
    /// </summary>
    public static IHostApplicationBuilder AddFleetData(this IHostApplicationBuilder builder, bool createDatabase)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FleetConfigurationException(
                "No database configured: set the connection string ConnectionStrings__Fleet (e.g. " +
                "ConnectionStrings__Fleet=\"Host=db;Database=provisioning_fleet;Username=fleet;Password=...\"), " +
                "or start with --demo to run on a private PostgreSQL of its own.");
        }

        builder.Services.AddPooledDbContextFactory<FleetDbContext>(options => FleetDbContext.Configure(options, connectionString));
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContext());
        builder.Services.AddHostedService(services => new FleetDatabaseMigrator(
            services.GetRequiredService<IDbContextFactory<FleetDbContext>>(),
            createDatabase,
            services.GetRequiredService<ILogger<FleetDatabaseMigrator>>()));
        builder.Services.AddHealthChecks().AddCheck<DatabaseReadyCheck>("database", tags: ["ready"]);
        return builder;
    }
}
