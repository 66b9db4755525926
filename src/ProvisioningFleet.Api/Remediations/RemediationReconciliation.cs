using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Remediations;

/// <summary>
/// At start-up and every <see cref="EngineOptions.ReconcileInterval"/>, closes the InProgress remediations a
/// crash or a database outage left behind (older than <see cref="EngineOptions.StaleRemediationAfter"/>),
/// one at a time, each under <see cref="RemediationRunner.ReconcileAsync"/>. Every replica runs it; the
/// conditional close makes that safe. One record's failure never stops the pass, a failed pass never the service.
/// </summary>
internal sealed class RemediationReconciliation(
    IDbContextFactory<FleetDbContext> contexts,
    RemediationRunner runner,
    IOptions<EngineOptions> options,
    TimeProvider time,
    ILogger<RemediationReconciliation> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReconcileInterval, time);
        do
        {
            try
            {
                await ReconcilePassAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Reconciling interrupted remediations failed, retried in {Interval}: {Reason}", options.Value.ReconcileInterval, e.GetBaseException().Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ReconcilePassAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.Value.StaleRemediationAfter;
        List<long> stale;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            stale = await db.Remediations
                .Where(r => r.Outcome == RemediationOutcome.InProgress && r.RequestedAt < before)
                .OrderBy(r => r.Id)
                .Select(r => r.Id)
                .ToListAsync(cancellationToken);
        }

        foreach (var id in stale)
        {
            try
            {
                await runner.ReconcileAsync(id, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Remediation {RemediationId} could not be reconciled, retried next pass: {Reason}", id, e.GetBaseException().Message);
            }
        }
    }
}
