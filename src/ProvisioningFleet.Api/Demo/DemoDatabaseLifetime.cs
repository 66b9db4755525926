using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.Api.Demo;

/// <summary>Says where demo mode's private PostgreSQL is, and stops it with the host.</summary>
internal sealed class DemoDatabaseLifetime(LocalPostgresCluster cluster, ILogger<DemoDatabaseLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogWarning(
            "Demo mode: a private PostgreSQL in {Folder} on 127.0.0.1:{Port} holds this service's data. " +
            "To use a real server, set ConnectionStrings__Fleet (an empty database is enough) and start without --demo.",
            cluster.DataDirectory, cluster.Port);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => cluster.StopAsync(cancellationToken);
}
