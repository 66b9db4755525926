using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Storage;

/// <summary>
/// Applies the EF Core migrations before anything else starts: in <see cref="StartingAsync"/>, so before
/// every hosted service's StartAsync (Data Protection's reads the key ring from the database), and before
/// the start-up checks registered after it. Outside demo mode the database must already exist: a
/// mistyped database name must stop the service, not give it an empty database of its own.
/// </summary>
internal sealed class FleetDatabaseMigrator(IDbContextFactory<FleetDbContext> contexts, bool createDatabase, ILogger<FleetDatabaseMigrator> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        if (!createDatabase && !await db.GetService<IRelationalDatabaseCreator>().ExistsAsync(cancellationToken))
        {
            throw new FleetConfigurationException(
                $"The database '{db.Database.GetDbConnection().Database}' named in ConnectionStrings__Fleet does not exist. " +
                "Create it (an empty database is enough) or correct the connection string.");
        }

        logger.LogInformation("Migrating the database schema");
        await db.Database.MigrateAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
