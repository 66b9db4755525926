using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Api.Notifications;

/// <summary>
/// Drains the outbox: queues new events for the channels that want them, then sends what each due
/// channel has waiting, channels side by side so that a dead one delays nobody else. A channel is held
/// by one worker at a time (a claim that runs out by itself), and nothing is deleted from its queue
/// before the channel accepted the message: a crash in between sends it again (at least once).
/// </summary>
public sealed partial class NotificationDispatcher(
    IDbContextFactory<FleetDbContext> contexts,
    ChannelSender sender,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    IMeterFactory meters,
    ILogger<NotificationDispatcher> logger)
{
    private const int DispatchBatch = 1000;
    private const int MessagesPerClaim = 100;

    private readonly Counter<long> _deliveries = meters.Create(FleetTelemetry.Name)
        .CreateCounter<long>("fleet.notification.deliveries", "{delivery}", "Attempts to deliver notification messages, by channel kind and status.");

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            while (await NotificationQueueStore.DispatchAsync(db, DispatchBatch, time.GetUtcNow(), cancellationToken) == DispatchBatch)
            {
            }

            var due = await NotificationQueueStore.DueChannelsAsync(db, time.GetUtcNow(), cancellationToken);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (channelId, token) => await DeliverAsync(channelId, token));
        }
    }

    /// <summary>Sends a test message to the channel now, outside its queue and back-off, and logs the attempt.</summary>
    public async Task<NotificationDelivery> SendTestAsync(NotificationChannel channel, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var test = new OutgoingEvent(0, OutgoingEvent.TestType, now, System.Text.Json.JsonSerializer.SerializeToElement(new { channel = channel.Name }));
        var result = await sender.SendAsync(channel, [test], cancellationToken);
        var delivery = NewDelivery(channel.Id, null, OutgoingEvent.TestType, 0, 1, result.Accepted ? NotificationDeliveryStatus.Delivered : NotificationDeliveryStatus.Failed, result);
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        db.NotificationDeliveries.Add(delivery);
        await db.SaveChangesAsync(CancellationToken.None);
        Count(channel, delivery.Status);
        return delivery;
    }

    private async Task DeliverAsync(long channelId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var claim = settings.DeliveryTimeout + TimeSpan.FromSeconds(30);
        if (!await NotificationQueueStore.TryClaimAsync(db, channelId, time.GetUtcNow(), time.GetUtcNow() + claim, cancellationToken))
        {
            return;
        }

        // One run sends for at most about a delivery timeout (plus the last call), so that a busy channel sending
        // event by event never holds the drain, and with it every other channel's new events, for long.
        var started = time.GetTimestamp();
        try
        {
            for (var message = 0; message < MessagesPerClaim && time.GetElapsedTime(started) < settings.DeliveryTimeout; message++)
            {
                var channel = await db.NotificationChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == channelId, cancellationToken);
                if (channel is not { Enabled: true })
                {
                    return;
                }

                var take = channel.MinimumIntervalMinutes == 0 ? 1 : settings.MaxEventsPerMessage;
                var pending = await (
                        from item in db.Set<NotificationQueueItem>()
                        join stored in db.NotificationEvents on item.EventId equals stored.Id
                        where item.ChannelId == channelId
                        orderby stored.Id
                        select stored)
                    .AsNoTracking().Take(take).ToListAsync(cancellationToken);
                if (pending.Count == 0)
                {
                    return;
                }

                var events = pending.Select(OutgoingEvent.From).ToList();
                var result = await sender.SendAsync(channel, events, cancellationToken);
                var accepted = await RecordAsync(db, channel, events, result);
                if (!accepted || channel.MinimumIntervalMinutes > 0)
                {
                    return;
                }

                await NotificationQueueStore.TryExtendClaimAsync(db, channelId, time.GetUtcNow() + claim, CancellationToken.None);
            }
        }
        finally
        {
            await NotificationQueueStore.ReleaseAsync(db, channelId, CancellationToken.None);
        }
    }

    /// <summary>The outcome of one attempt, in one transaction: the log entry, the queue, the channel's back-off. Returns whether it was accepted.</summary>
    private async Task<bool> RecordAsync(FleetDbContext db, NotificationChannel channel, IReadOnlyList<OutgoingEvent> events, SendResult result)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var attempt = channel.ConsecutiveFailures + 1;
        var giveUp = !result.Accepted && attempt >= settings.MaxAttempts;
        var status = result.Accepted ? NotificationDeliveryStatus.Delivered : giveUp ? NotificationDeliveryStatus.Abandoned : NotificationDeliveryStatus.Failed;
        var type = events.Count == 1 ? events[0].Type : OutgoingEvent.DigestType;
        var ids = events.Select(e => e.Id).ToArray();

        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        db.NotificationDeliveries.Add(NewDelivery(channel.Id, events[0].Id, type, events.Count, attempt, status, result));
        await db.SaveChangesAsync(CancellationToken.None);
        db.ChangeTracker.Clear();
        if (status == NotificationDeliveryStatus.Failed)
        {
            var wait = Backoff(attempt, settings);
            await db.NotificationChannels.Where(c => c.Id == channel.Id).ExecuteUpdateAsync(set => set
                .SetProperty(c => c.ConsecutiveFailures, attempt)
                .SetProperty(c => c.NextAttemptAt, now + wait), CancellationToken.None);
            LogFailed(logger, channel.Name, channel.Kind, type, events.Count, attempt, wait, result.Error);
        }
        else
        {
            await db.Set<NotificationQueueItem>().Where(q => q.ChannelId == channel.Id && ids.Contains(q.EventId)).ExecuteDeleteAsync(CancellationToken.None);
            await db.NotificationChannels.Where(c => c.Id == channel.Id).ExecuteUpdateAsync(set => set
                .SetProperty(c => c.ConsecutiveFailures, 0)
                .SetProperty(c => c.NextAttemptAt, (DateTimeOffset?)null)
                .SetProperty(c => c.LastSentAt, c => result.Accepted ? now : c.LastSentAt), CancellationToken.None);
            if (giveUp)
            {
                LogAbandoned(logger, channel.Name, channel.Kind, type, events.Count, attempt, result.Error);
            }
            else
            {
                LogDelivered(logger, channel.Name, channel.Kind, type, events.Count);
            }
        }

        await transaction.CommitAsync(CancellationToken.None);
        Count(channel, status);
        return result.Accepted;
    }

    public static TimeSpan Backoff(int failures, NotificationOptions settings)
    {
        var doubled = settings.FirstBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(doubled, settings.MaxBackoff.TotalMilliseconds));
    }

    private NotificationDelivery NewDelivery(long channelId, long? eventId, string type, int count, int attempt, NotificationDeliveryStatus status, SendResult result) => new()
    {
        ChannelId = channelId,
        EventId = eventId,
        Type = type,
        EventCount = count,
        Attempt = attempt,
        Status = status,
        ResponseCode = result.ResponseCode,
        Error = result.Error is { Length: > 4000 } error ? error[..4000] : result.Error,
        At = time.GetUtcNow(),
    };

    private void Count(NotificationChannel channel, NotificationDeliveryStatus status) =>
        _deliveries.Add(1, new KeyValuePair<string, object?>("kind", channel.Kind.ToString()), new KeyValuePair<string, object?>("status", status.ToString()));

    [LoggerMessage(Level = LogLevel.Information, Message = "Notification channel {Channel} ({Kind}): {Type} delivered ({Events} events)")]
    private static partial void LogDelivered(ILogger logger, string channel, NotificationChannelKind kind, string type, int events);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification channel {Channel} ({Kind}): {Type} of {Events} events failed (attempt {Attempt}), next try in {Wait}: {Error}")]
    private static partial void LogFailed(ILogger logger, string channel, NotificationChannelKind kind, string type, int events, int attempt, TimeSpan wait, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Notification channel {Channel} ({Kind}): {Type} of {Events} events abandoned after {Attempt} attempts: {Error}")]
    private static partial void LogAbandoned(ILogger logger, string channel, NotificationChannelKind kind, string type, int events, int attempt, string? error);
}
