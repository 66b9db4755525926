using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Jobs;

/// <summary>
/// Hands back to the queue the jobs a worker took but never started. Such a job stays <c>Enqueued</c> while its queue
/// row stays taken: the storage's sliding-invisibility heartbeat keeps refreshing the row for a fetch that no worker
/// runs, so no other worker ever sees the job (seen once, in a million-device sweep whose last shard waited for ever;
/// see docs/reliability.md). A healthy worker moves a taken job to <c>Processing</c> within moments, and gives up
/// on it after Hangfire's one-minute job initialization wait; a row seen taken-but-enqueued on checks
/// <see cref="EngineOptions.StalledJobAfter"/> apart is past both. Releasing it clears the row's fetch time, which
/// also stops the orphaned heartbeat (it only refreshes the fetch time it set). A job run twice after all is
/// Hangfire's at-least-once: a shard is guarded by its advisory lock, a fix by its conditional claims.
/// </summary>
public sealed class StalledJobRelease(
    IDbContextFactory<FleetDbContext> contexts,
    TimeProvider time,
    IOptions<EngineOptions> options,
    IMeterFactory meters,
    ILogger<StalledJobRelease> logger)
{
    private readonly StalledJobTracker _tracker = new();

    private readonly Counter<long> _released = meters.Create(FleetTelemetry.Name)
        .CreateCounter<long>("fleet.jobs.released", "{job}", "Jobs a worker took but never started, handed back to the queue.");

    /// <summary>One look at the queue; returns the jobs released by it.</summary>
    public async Task<IReadOnlyList<ReleasedJob>> CheckAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var taken = await db.Database.SqlQueryRaw<long>(TakenButEnqueuedSql).ToListAsync(cancellationToken);
        var stalled = _tracker.Observe(taken, time.GetUtcNow(), options.Value.StalledJobAfter);
        if (stalled.Count == 0)
        {
            return [];
        }

        var released = await db.Database.SqlQueryRaw<ReleasedJob>(ReleaseSql, new NpgsqlParameter("rows", stalled.ToArray())).ToListAsync(cancellationToken);
        foreach (var job in released)
        {
            _released.Add(1, new KeyValuePair<string, object?>("queue", job.Queue));
            logger.LogWarning("Job {JobId} in queue {Queue} was taken by a worker at least {StalledAfter} ago and never started; handed back to the queue",
                job.JobId, job.Queue, options.Value.StalledJobAfter);
        }

        return released;
    }

    private const string TakenButEnqueuedSql = $"""
        SELECT q.id AS "Value"
        FROM {FleetJobsExtensions.HangfireSchema}.jobqueue q
        JOIN {FleetJobsExtensions.HangfireSchema}.job j ON j.id = q.jobid
        WHERE q.fetchedat IS NOT NULL AND j.statename = 'Enqueued'
        """;

    // The state is checked again in the same statement: a job that started since the look is left alone.
    private const string ReleaseSql = $"""
        UPDATE {FleetJobsExtensions.HangfireSchema}.jobqueue q SET fetchedat = NULL
        FROM {FleetJobsExtensions.HangfireSchema}.job j
        WHERE q.id = ANY(@rows) AND j.id = q.jobid AND j.statename = 'Enqueued' AND q.fetchedat IS NOT NULL
        RETURNING q.jobid AS job_id, q.queue
        """;
}

public sealed record ReleasedJob(long JobId, string Queue);

/// <summary>Remembers since when each queue row has been seen taken while its job stayed enqueued.</summary>
internal sealed class StalledJobTracker
{
    private Dictionary<long, DateTimeOffset> _seenSince = [];

    /// <summary>The rows seen so on every look for at least <paramref name="stalledAfter"/>; they are then forgotten.</summary>
    public IReadOnlyList<long> Observe(IReadOnlyCollection<long> takenButEnqueued, DateTimeOffset now, TimeSpan stalledAfter)
    {
        var seenSince = new Dictionary<long, DateTimeOffset>(takenButEnqueued.Count);
        var stalled = new List<long>();
        foreach (var row in takenButEnqueued)
        {
            var since = _seenSince.GetValueOrDefault(row, now);
            if (now - since >= stalledAfter)
            {
                stalled.Add(row);
            }
            else
            {
                seenSince[row] = since;
            }
        }

        _seenSince = seenSince;
        return stalled;
    }
}

/// <summary>Looks for stalled jobs every third of <see cref="EngineOptions.StalledJobAfter"/> on an instance that runs jobs.</summary>
internal sealed class StalledJobWatch(StalledJobRelease release, IOptions<EngineOptions> options, TimeProvider time, ILogger<StalledJobWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.StalledJobAfter / 3;
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await release.CheckAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Looking for stalled jobs failed, retried in {Interval}: {Reason}", interval, e.GetBaseException().Message);
            }
        }
    }
}
