using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Local;

namespace ProvisioningFleet.Api.Storage;

public static class FleetDataExtensions
{
    public const string ConnectionStringName = "Fleet";

    /// <summary>
    /// The database: <c>ConnectionStrings__Fleet</c>, required outside demo mode; in demo mode without
    /// one, a private cluster under the demo data folder. The schema is migrated before the host starts.
    /// </summary>
    public static async Task<IHostApplicationBuilder> AddFleetDataAsync(this IHostApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        var demo = builder.Configuration.IsDemo();
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (!demo)
            {
                throw new FleetConfigurationException(
                    "No database configured: set the connection string ConnectionStrings__Fleet (e.g. " +
                    "ConnectionStrings__Fleet=\"Host=db;Database=provisioning_fleet;Username=fleet;Password=...\"), " +
                    "or start with --demo to run on a private PostgreSQL of its own.");
            }

            var cluster = await StartDemoClusterAsync(builder, cancellationToken);
            connectionString = cluster.ConnectionString("provisioning_fleet");
            // Everything else that reads the connection string (the job store too) gets the same database.
            builder.Configuration[$"ConnectionStrings:{ConnectionStringName}"] = connectionString;
        }

        builder.Services.AddPooledDbContextFactory<FleetDbContext>(options => FleetDbContext.Configure(options, connectionString));
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<FleetDbContext>>().CreateDbContext());
        builder.Services.AddHostedService(services => new FleetDatabaseMigrator(
            services.GetRequiredService<IDbContextFactory<FleetDbContext>>(),
            createDatabase: demo,
            services.GetRequiredService<ILogger<FleetDatabaseMigrator>>()));
        return builder;
    }

    private static async Task<LocalPostgresCluster> StartDemoClusterAsync(IHostApplicationBuilder builder, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(builder.DataFolder(), "postgres");
        LocalPostgresCluster cluster;
        try
        {
            cluster = await LocalPostgresCluster.StartAsync(folder, deleteOnDispose: false, cancellationToken);
        }
        catch (InvalidOperationException exception)
        {
            throw new FleetConfigurationException(
                $"Demo mode could not start its private PostgreSQL in {folder}: {exception.Message}\n" +
                "Alternatively point it at a server: set ConnectionStrings__Fleet.", exception);
        }

        // Registered before every other hosted service, so it stops last: the database outlives its users.
        builder.Services.AddHostedService(services => new DemoDatabaseLifetime(cluster, services.GetRequiredService<ILogger<DemoDatabaseLifetime>>()));
        return cluster;
    }
}
