using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
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

        if (createDatabase)
        {
            await CreateIfMissingAsync(db.Database.GetConnectionString()!, cancellationToken);
        }

        logger.LogInformation("Migrating the database schema");
        // Made first, so that the migrator's opening read of it cannot fail (and log an error) on an empty database.
        await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>
    /// Creates the (demo) database through the maintenance database: EF Core's own check connects to the missing
    /// database first and logs the failure as an error, which a first start must not show.
    /// </summary>
    private async Task CreateIfMissingAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new FleetConfigurationException("The connection string names no database.");
        target.Database = "postgres";
        target.Pooling = false;
        await using var connection = new NpgsqlConnection(target.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @name)", connection);
        exists.Parameters.AddWithValue("name", name);
        if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return;
        }

        logger.LogInformation("Creating the database {Database}", name);
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
