using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Storage;

/// <summary>Ready means the database answers a query, not merely that the process is up.</summary>
internal sealed class DatabaseReadyCheck(IDbContextFactory<FleetDbContext> contexts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await db.Database.ExecuteSqlRawAsync("SELECT 1", timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The reason without the exception: the health-check log line stays one line each poll while the database is down.
            return HealthCheckResult.Unhealthy($"The database does not answer: {exception.GetBaseException().Message}");
        }
    }
}
