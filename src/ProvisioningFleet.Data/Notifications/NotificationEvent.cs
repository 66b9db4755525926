namespace ProvisioningFleet.Data.Notifications;

/// <summary>
/// Something people may want to hear about, written in the same transaction as the change that caused
/// it (the outbox). <see cref="DispatchedAt"/> is set once it has been queued for every channel that
/// wanted it at that time. <see cref="Data"/> is a JSON object.
/// </summary>
public class NotificationEvent
{
    public long Id { get; set; }
    public string Type { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }
    public long? DeviceId { get; set; }
    public long? SweepId { get; set; }
    public string Data { get; set; } = "{}";
    public DateTimeOffset? DispatchedAt { get; set; }
}

/// <summary>One event waiting to be sent to one channel; deleted once sent (or given up).</summary>
public class NotificationQueueItem
{
    public long ChannelId { get; set; }
    public long EventId { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
}

/// <summary>One attempt to send a message (one event, a digest of several, or a test) to a channel.</summary>
public class NotificationDelivery
{
    public long Id { get; set; }
    public long ChannelId { get; set; }

    /// <summary>The event sent, or the first of a digest; null for a test message.</summary>
    public long? EventId { get; set; }

    /// <summary>The event type, <c>digest</c> or <c>test</c>.</summary>
    public string Type { get; set; } = "";

    public int EventCount { get; set; }
    public int Attempt { get; set; }
    public NotificationDeliveryStatus Status { get; set; }
    public int? ResponseCode { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset At { get; set; }
}

public enum NotificationDeliveryStatus
{
    /// <summary>The channel accepted the message.</summary>
    Delivered,

    /// <summary>Refused or not answered in time; retried after a back-off.</summary>
    Failed,

    /// <summary>Failed for the last allowed time: the message's events are dropped for this channel.</summary>
    Abandoned,
}
