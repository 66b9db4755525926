namespace ProvisioningFleet.Data.Notifications;

/// <summary>
/// Where people are told: a webhook, a Slack or Teams incoming webhook, or e-mail recipients.
/// <see cref="ProtectedSecret"/> and <see cref="ProtectedUrl"/> are ASP.NET Core Data Protection ciphertext.
/// </summary>
public class NotificationChannel
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public NotificationChannelKind Kind { get; set; }

    /// <summary>
    /// The URL as shown: a generic webhook's in full (and sent to); for Slack and Teams, whose URL is itself the
    /// credential, only its scheme and host.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>A Slack or Teams incoming-webhook URL, encrypted: whoever has it can post to the channel.</summary>
    public string? ProtectedUrl { get; set; }

    /// <summary>The webhook's HMAC-SHA256 key, encrypted; null sends no signature.</summary>
    public string? ProtectedSecret { get; set; }

    public string[] To { get; set; } = [];
    public string[] Events { get; set; } = [];
    public int MinimumIntervalMinutes { get; set; }
    public bool Enabled { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the last message was accepted by the channel.</summary>
    public DateTimeOffset? LastSentAt { get; set; }

    /// <summary>Failed attempts at the current message in a row; drives the back-off.</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>No attempt before this time (back-off after a failure).</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>A delivery worker holds the channel until then; a crashed worker's claim simply runs out.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }
}

public enum NotificationChannelKind
{
    Webhook,
    Slack,
    Teams,
    Email,
}
