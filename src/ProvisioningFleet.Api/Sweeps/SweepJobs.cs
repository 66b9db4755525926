using System.ComponentModel;
using System.Security.Claims;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Data.Sweeps;

namespace ProvisioningFleet.Api.Sweeps;

/// <summary>
/// The sweep's background jobs. Arguments are ids only: nothing secret reaches the job store, and the
/// dashboard shows readable names.
/// </summary>
public sealed class SweepJobs(
    IDbContextFactory<FleetDbContext> contexts,
    IBackgroundJobClient jobs,
    SweepShardRunner shards,
    SweepFinisher finisher,
    TimeProvider time,
    IOptions<EngineOptions> options,
    IAuditTrail audit,
    ILogger<SweepJobs> logger)
{
    public const int ShardAttempts = 3;

    /// <summary>
    /// A sweep someone asked for: queued and audited in one transaction, unless a sweep of the same tag (none: the
    /// whole fleet; compared case-insensitively) is already queued, whose id is then returned instead.
    /// </summary>
    public async Task<(Sweep? Queued, long? AlreadyQueued)> RequestManualAsync(string? tag, bool dryRun, ClaimsPrincipal actor, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Two requests for one tag at once: the second waits here and then sees the first one's queued sweep.
        await SweepLedger.LockSweepRequestsAsync(db, cancellationToken);
        var lowered = tag?.ToLowerInvariant();
        var queued = await db.Sweeps
            .Where(s => s.Status == SweepStatus.Queued && !s.CancelRequested)
            .Where(s => lowered == null ? s.Tag == null : s.Tag != null && s.Tag.ToLower() == lowered)
            .Select(s => (long?)s.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (queued is not null)
        {
            return (null, queued);
        }

        var sweep = NewSweep(SweepTrigger.Manual, tag, dryRun, actor.ActorName());
        db.Sweeps.Add(sweep);
        await db.SaveChangesAsync(cancellationToken);
        audit.Record(db, actor, "sweep.start", $"sweep:{sweep.Id}", new { tag, dryRun });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        jobs.Enqueue<SweepJobs>(j => j.StartAsync(sweep.Id, CancellationToken.None));
        return (sweep, null);
    }

    /// <summary>Creates a Queued sweep and its start job.</summary>
    public async Task<Sweep> RequestAsync(SweepTrigger trigger, string? tag, bool dryRun, string requestedBy, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var sweep = NewSweep(trigger, tag, dryRun, requestedBy);
        db.Sweeps.Add(sweep);
        await db.SaveChangesAsync(cancellationToken);
        jobs.Enqueue<SweepJobs>(j => j.StartAsync(sweep.Id, CancellationToken.None));
        return sweep;
    }

    private Sweep NewSweep(SweepTrigger trigger, string? tag, bool dryRun, string requestedBy) => new()
    {
        Status = SweepStatus.Queued,
        Trigger = trigger,
        Tag = tag,
        DryRun = dryRun,
        RequestedBy = requestedBy,
        RequestedAt = time.GetUtcNow(),
    };

    [DisplayName("Scheduled sweep")]
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(60)]
    public async Task ScheduledSweepAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // A schedule faster than the fleet can be swept must not pile up sweeps that nobody will wait for.
        if (await db.Sweeps.AnyAsync(s => s.Trigger == SweepTrigger.Schedule && s.Status == SweepStatus.Queued, cancellationToken))
        {
            logger.LogWarning("Scheduled sweep not queued: the previous scheduled sweep is still waiting to start");
            return;
        }

        await RequestAsync(SweepTrigger.Schedule, null, dryRun: false, "schedule", cancellationToken);
    }

    /// <summary>Starts the sweep when no other runs (else looks again later): snapshots the devices and queues the shards.</summary>
    [DisplayName("Sweep #{0}: start")]
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [2, 10, 30, 60, 120])]
    public async Task StartAsync(long sweepId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var sweep = await db.Sweeps.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sweepId, cancellationToken);
        if (sweep is null)
        {
            return;
        }

        if (sweep.Status == SweepStatus.Queued)
        {
            var policy = await db.Policies.AsNoTracking().SingleAsync(cancellationToken);
            if (!await SweepLedger.TryStartAsync(db, sweepId, policy.MaxRemediationsPerSweep, time.GetUtcNow(), cancellationToken))
            {
                if (await db.Sweeps.AnyAsync(s => s.Id == sweepId && s.Status == SweepStatus.Queued && !s.CancelRequested, cancellationToken))
                {
                    jobs.Schedule<SweepJobs>(j => j.StartAsync(sweepId, CancellationToken.None), options.Value.QueuedSweepRetry);
                }

                return;
            }

            await CreateShardsAsync(db, sweep, cancellationToken);
        }

        if (await db.Sweeps.AnyAsync(s => s.Id == sweepId && s.Status == SweepStatus.Running, cancellationToken))
        {
            // Also the recovery path: a start that crashed after creating the shards queues those it had not.
            foreach (var index in await db.Set<SweepShard>().Where(s => s.SweepId == sweepId && s.JobId == null).Select(s => s.Index).ToListAsync(cancellationToken))
            {
                var jobId = jobs.Enqueue<SweepJobs>(j => j.RunShardAsync(sweepId, index, null, CancellationToken.None));
                await db.Set<SweepShard>().Where(s => s.SweepId == sweepId && s.Index == index)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.JobId, jobId), cancellationToken);
            }
        }
    }

    [DisplayName("Sweep #{0}: shard {1}")]
    [AutomaticRetry(Attempts = ShardAttempts, DelaysInSeconds = [5, 30, 120])]
    public async Task RunShardAsync(long sweepId, int shardIndex, PerformContext? context, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        if (!await SweepLedger.TryLockShardAsync(db, sweepId, shardIndex, cancellationToken))
        {
            // Another run holds it: a live one (this job was handed out twice) or a dead one whose database session
            // PostgreSQL has not ended yet. Dropping the job would lose the shard in the second case; looking again
            // later loses nothing in either (a finished shard returns at once).
            logger.LogWarning("Sweep {SweepId} shard {Shard} is locked by another run; looking again in {Retry}", sweepId, shardIndex, options.Value.ShardLockRetry);
            jobs.Schedule<SweepJobs>(j => j.RunShardAsync(sweepId, shardIndex, null, CancellationToken.None), options.Value.ShardLockRetry);
            return;
        }

        try
        {
            await shards.RunAsync(sweepId, shardIndex, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException && context?.GetJobParameter<int>("RetryCount") >= ShardAttempts)
        {
            // The last attempt: the sweep must still end (as Failed) rather than block every later sweep.
            logger.LogError(e, "Sweep {SweepId} shard {Shard} failed for good", sweepId, shardIndex);
            await shards.CompleteAsync(sweepId, shardIndex, $"Shard {shardIndex} failed: {e.Message}");
        }
        finally
        {
            await SweepLedger.UnlockShardAsync(db, sweepId, shardIndex, CancellationToken.None);
        }
    }

    /// <summary>
    /// Every <paramref name="shardCount"/>-th device from the <paramref name="shard"/>-th on. Rows imported together sit
    /// on the same heap pages; dealt out this way, a batch's one-statement update touches each page once, so the page
    /// has room for the new row version and the update stays HOT (no entry in any of the table's indexes). With runs of
    /// consecutive ids a batch put a whole page's rows into one statement, which cannot reuse the space of the versions
    /// it has just replaced, and half the updates of a steady million-device sweep wrote every index.
    /// </summary>
    internal static long[] InterleavedShard(IReadOnlyList<long> ids, int shard, int shardCount)
    {
        var devices = new long[((ids.Count - shard - 1) / shardCount) + 1];
        for (var i = 0; i < devices.Length; i++)
        {
            devices[i] = ids[shard + (i * shardCount)];
        }

        return devices;
    }

    private async Task CreateShardsAsync(FleetDbContext db, Sweep sweep, CancellationToken cancellationToken)
    {
        var devices = db.Devices.AsNoTracking().Where(d => d.Enabled);
        if (sweep.Tag is { } tag)
        {
            var key = Device.KeyOf(tag);
            devices = devices.Where(d => d.TagKeys.Contains(key));
        }

        var ids = await devices.OrderBy(d => d.Id).Select(d => d.Id).ToListAsync(cancellationToken);
        var shardSize = Math.Max(1, options.Value.ShardSize);
        var shardCount = (ids.Count + shardSize - 1) / shardSize;
        var chunks = Enumerable.Range(0, shardCount).Select(shard => InterleavedShard(ids, shard, shardCount)).ToList();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            db.Set<SweepShard>().AddRange(chunks.Select((chunk, index) => new SweepShard { SweepId = sweep.Id, Index = index, DeviceIds = chunk }));
            await db.SaveChangesAsync(cancellationToken);
            await db.Sweeps.Where(s => s.Id == sweep.Id).ExecuteUpdateAsync(set => set
                .SetProperty(s => s.Total, ids.Count)
                .SetProperty(s => s.ShardCount, chunks.Count), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        logger.LogInformation("Sweep {SweepId} started: {Total} devices in {Shards} shards", sweep.Id, ids.Count, chunks.Count);
        if (chunks.Count == 0)
        {
            await finisher.FinishAsync(sweep.Id, cancellationToken);
        }
    }
}
