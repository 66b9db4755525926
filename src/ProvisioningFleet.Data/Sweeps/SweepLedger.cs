using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Data.Sweeps;

/// <summary>What a batch of devices added to a sweep's counters.</summary>
public sealed class SweepTally
{
    public int Probed { get; set; }
    public Dictionary<string, int> ByState { get; } = [];
    public int Remediated { get; set; }
    public int RemediationsFailed { get; set; }
    public int Skipped { get; set; }
    public int WouldRemediate { get; set; }
    public long RoundTrips { get; set; }
}

/// <summary>
/// The sweep's shared state in PostgreSQL, changed only by single atomic statements, so that any
/// number of shard jobs on any number of instances keep exact counts without talking to each other.
/// </summary>
public static class SweepLedger
{
    /// <summary>Queued → Running, unless another sweep runs (the unique index says no) or an older one waits.</summary>
    /// <summary>Serializes requests for new sweeps until the caller's transaction ends (one queued sweep per tag).</summary>
    public static Task LockSweepRequestsAsync(FleetDbContext db, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('fleet-sweep-requests'))", cancellationToken);

    public static async Task<bool> TryStartAsync(FleetDbContext db, long sweepId, int remediationLimit, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            return await db.Database.ExecuteSqlInterpolatedAsync($"""
                UPDATE sweeps SET status = 'Running', started_at = {now}, remediation_limit = {remediationLimit}
                WHERE id = {sweepId} AND status = 'Queued' AND NOT cancel_requested
                  AND NOT EXISTS (SELECT 1 FROM sweeps older WHERE older.status = 'Queued' AND older.id < {sweepId})
                """, cancellationToken) == 1;
        }
        catch (PostgresException e) when (e.IsUniqueViolation())
        {
            return false;
        }
    }

    /// <summary>Claims one fix of the sweep's blast-radius budget; false once the limit is reached, across all shards.</summary>
    public static async Task<bool> TryClaimRemediationAsync(FleetDbContext db, long sweepId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE sweeps SET remediation_slots_used = remediation_slots_used + 1
            WHERE id = {sweepId} AND remediation_slots_used < remediation_limit
            """, cancellationToken) == 1;

    /// <summary>Gives back a claim that did not touch the device (it was skipped at the last re-read).</summary>
    public static Task ReleaseRemediationAsync(FleetDbContext db, long sweepId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE sweeps SET remediation_slots_used = remediation_slots_used - 1 WHERE id = {sweepId} AND remediation_slots_used > 0
            """, cancellationToken);

    /// <summary>
    /// Adds a batch to the counters and marks its devices processed in the shard, inside the caller's
    /// transaction (with the verdicts). Returns whether cancellation was requested.
    /// </summary>
    public static async Task<bool> AddAsync(FleetDbContext db, long sweepId, int shardIndex, SweepTally tally, long[] processed, CancellationToken cancellationToken)
    {
        var delta = JsonSerializer.Serialize(tally.ByState);
        var cancel = await db.Database.SqlQuery<bool>($"""
            UPDATE sweeps AS s SET
                probed = s.probed + {tally.Probed},
                remediated = s.remediated + {tally.Remediated},
                remediations_failed = s.remediations_failed + {tally.RemediationsFailed},
                skipped = s.skipped + {tally.Skipped},
                would_remediate = s.would_remediate + {tally.WouldRemediate},
                round_trips = s.round_trips + {tally.RoundTrips},
                by_state = (SELECT coalesce(jsonb_object_agg(k, coalesce((s.by_state ->> k)::int, 0) + coalesce(({delta}::jsonb ->> k)::int, 0)), jsonb_build_object())
                            FROM (SELECT jsonb_object_keys(s.by_state) UNION SELECT jsonb_object_keys({delta}::jsonb)) AS keys(k))
            WHERE s.id = {sweepId}
            RETURNING s.cancel_requested AS "Value"
            """).ToListAsync(cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE sweep_shards SET processed_device_ids = processed_device_ids || {processed}
            WHERE sweep_id = {sweepId} AND index = {shardIndex}
            """, cancellationToken);
        return cancel.SingleOrDefault();
    }

    /// <summary>
    /// Marks a shard done (once, however often it runs) and reports whether it was the sweep's last.
    /// <paramref name="error"/> marks the sweep as failed.
    /// </summary>
    public static async Task<bool> CompleteShardAsync(FleetDbContext db, long sweepId, int shardIndex, DateTimeOffset now, string? error, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var marked = await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE sweep_shards SET completed_at = {now} WHERE sweep_id = {sweepId} AND index = {shardIndex} AND completed_at IS NULL
            """, cancellationToken);
        if (marked == 0)
        {
            return false;
        }

        var last = await db.Database.SqlQuery<bool>($"""
            UPDATE sweeps SET shards_completed = shards_completed + 1, error = coalesce(error, {error})
            WHERE id = {sweepId}
            RETURNING shards_completed >= shard_count AS "Value"
            """).ToListAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return last.SingleOrDefault();
    }

    /// <summary>
    /// A session lock on the shard, held on the context's open connection until <see cref="UnlockShardAsync"/>:
    /// however a job gets handed out twice, one run at a time works on it.
    /// </summary>
    public static async Task<bool> TryLockShardAsync(FleetDbContext db, long sweepId, int shardIndex, CancellationToken cancellationToken) =>
        await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({(int)sweepId}, {shardIndex}) AS \"Value\"").SingleAsync(cancellationToken);

    public static Task UnlockShardAsync(FleetDbContext db, long sweepId, int shardIndex, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_unlock({(int)sweepId}, {shardIndex})", cancellationToken);

    /// <summary>Running → Completed, Cancelled or Failed; the shard rows are only needed while it runs.</summary>
    public static async Task<string?> FinishAsync(FleetDbContext db, long sweepId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var status = await db.Database.SqlQuery<string>($"""
            UPDATE sweeps SET finished_at = {now},
                status = CASE WHEN error IS NOT NULL THEN 'Failed' WHEN cancel_requested THEN 'Cancelled' ELSE 'Completed' END
            WHERE id = {sweepId} AND status = 'Running'
            RETURNING status AS "Value"
            """).ToListAsync(cancellationToken);
        if (status.Count == 1)
        {
            await NotificationOutbox.RecordSweepFinishedAsync(db, sweepId, cancellationToken);
        }

        await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM sweep_shards WHERE sweep_id = {sweepId}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return status.SingleOrDefault();
    }
}
