using Hangfire;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Sweeps;

namespace ProvisioningFleet.Api.Sweeps;

/// <summary>Ends a sweep and lets the next queued one start at once rather than at its next retry.</summary>
public sealed class SweepFinisher(IDbContextFactory<FleetDbContext> contexts, IBackgroundJobClient jobs, FleetTelemetry telemetry, TimeProvider time)
{
    public async Task FinishAsync(long sweepId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var status = await SweepLedger.FinishAsync(db, sweepId, time.GetUtcNow(), cancellationToken);
        if (status is null)
        {
            return;
        }

        var sweep = await db.Sweeps.AsNoTracking().SingleAsync(s => s.Id == sweepId, cancellationToken);
        telemetry.SweepFinished((sweep.FinishedAt ?? time.GetUtcNow()) - (sweep.StartedAt ?? sweep.RequestedAt), status);
        await StartNextAsync(db, cancellationToken);
    }

    public async Task StartNextAsync(FleetDbContext db, CancellationToken cancellationToken)
    {
        var next = await db.Sweeps.Where(s => s.Status == SweepStatus.Queued && !s.CancelRequested)
            .OrderBy(s => s.Id).Select(s => (long?)s.Id).FirstOrDefaultAsync(cancellationToken);
        if (next is { } nextId)
        {
            jobs.Enqueue<SweepJobs>(j => j.StartAsync(nextId, CancellationToken.None));
        }
    }
}
