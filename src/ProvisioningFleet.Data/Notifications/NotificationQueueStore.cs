using Microsoft.EntityFrameworkCore;

namespace ProvisioningFleet.Data.Notifications;

/// <summary>
/// The delivery side of the outbox: events fanned out to the channels that want them, and channels
/// claimed for one worker at a time. Every statement is short; no transaction is held while a channel is called.
/// </summary>
public static class NotificationQueueStore
{
    /// <summary>Queues up to <paramref name="limit"/> new events for every enabled channel subscribed to them; returns how many events were taken.</summary>
    public static Task<int> DispatchAsync(FleetDbContext db, int limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            WITH batch AS (
                SELECT id, type FROM notification_events WHERE dispatched_at IS NULL ORDER BY id LIMIT {limit} FOR UPDATE SKIP LOCKED
            ), queued AS (
                INSERT INTO notification_queue (channel_id, event_id, queued_at)
                SELECT c.id, b.id, {now} FROM batch b JOIN notification_channels c ON c.enabled AND b.type = ANY(c.events)
                ON CONFLICT DO NOTHING
            )
            UPDATE notification_events e SET dispatched_at = {now} FROM batch b WHERE e.id = b.id
            """, cancellationToken);

    /// <summary>
    /// Channels with something to send now: not backing off, not held by a worker, and (digests) holding an
    /// event that has waited the channel's whole interval.
    /// </summary>
    public static Task<List<long>> DueChannelsAsync(FleetDbContext db, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<long>($"""
            SELECT c.id AS "Value" FROM notification_channels c
            WHERE c.enabled AND (c.claimed_until IS NULL OR c.claimed_until < {now}) AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= {now})
              AND EXISTS (SELECT 1 FROM notification_queue q
                          WHERE q.channel_id = c.id AND q.queued_at <= {now} - make_interval(mins => c.minimum_interval_minutes))
            ORDER BY c.id
            """).ToListAsync(cancellationToken);

    /// <summary>Whether a drain has anything to do: events to fan out, or a channel due.</summary>
    public static async Task<bool> AnyWorkAsync(FleetDbContext db, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.Set<NotificationEvent>().AnyAsync(e => e.DispatchedAt == null, cancellationToken)
        || (await DueChannelsAsync(db, now, cancellationToken)).Count > 0;

    /// <summary>Holds the channel for this worker until <paramref name="until"/>; false when another holds it or it is not due.</summary>
    public static async Task<bool> TryClaimAsync(FleetDbContext db, long channelId, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            UPDATE notification_channels SET claimed_until = {until}
            WHERE id = {channelId} AND enabled AND (claimed_until IS NULL OR claimed_until < {now})
              AND (next_attempt_at IS NULL OR next_attempt_at <= {now})
            """, cancellationToken) == 1;

    /// <summary>Keeps the claim for the next message of the same run.</summary>
    public static Task TryExtendClaimAsync(FleetDbContext db, long channelId, DateTimeOffset until, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"UPDATE notification_channels SET claimed_until = {until} WHERE id = {channelId}", cancellationToken);

    public static Task ReleaseAsync(FleetDbContext db, long channelId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"UPDATE notification_channels SET claimed_until = NULL WHERE id = {channelId}", cancellationToken);

    /// <summary>Old events and deliveries go; an event still queued for a channel stays.</summary>
    public static async Task<int> PruneAsync(FleetDbContext db, DateTimeOffset before, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"DELETE FROM notification_deliveries WHERE at < {before}", cancellationToken)
        + await db.Database.ExecuteSqlInterpolatedAsync($"""
            DELETE FROM notification_events e WHERE e.occurred_at < {before} AND e.dispatched_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM notification_queue q WHERE q.event_id = e.id)
            """, cancellationToken);
}
