using System.ComponentModel;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Jobs;

/// <summary>Deletes device history older than the policy's retention, in slices so that no long lock blocks sweeps.</summary>
public sealed class HistoryPruning(IDbContextFactory<FleetDbContext> contexts, TimeProvider time, ILogger<HistoryPruning> logger)
{
    private const int Slice = 10_000;

    [DisplayName("Prune device history older than the retention")]
    [AutomaticRetry(Attempts = 3)]
    [DisableConcurrentExecution(600)]
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var days = await db.Policies.AsNoTracking().Select(p => p.HistoryRetentionDays).SingleAsync(cancellationToken);
        var cutoff = time.GetUtcNow().AddDays(-days);
        var total = 0;
        int deleted;
        do
        {
            deleted = await DeviceHistory.DeleteSliceOlderThanAsync(db, cutoff, Slice, cancellationToken);
            total += deleted;
        }
        while (deleted == Slice);

        logger.LogInformation("Pruned {Count} history rows older than {Cutoff:o} ({Days} days)", total, cutoff, days);
        return total;
    }
}
