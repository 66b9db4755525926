namespace ProvisioningFleet.Api.Notifications;

/// <summary>Delivery knobs (configuration section <c>Fleet:Notifications</c>); channels themselves live in the database.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Fleet:Notifications";

    /// <summary>The address people reach the service at, for links in messages (e.g. <c>https://fleet.corp.example</c>); no links without it.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Whether this instance delivers (off with <c>Fleet:Engine:RunJobs=false</c> too); events are recorded either way.</summary>
    public bool Deliver { get; set; } = true;

    /// <summary>How often each instance looks for something to deliver.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline for one message to one channel (connect, send, answer).</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failure; doubled after each further one, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts at one message before its events are dropped for that channel (logged as Abandoned).</summary>
    public int MaxAttempts { get; set; } = 12;

    /// <summary>The most events one message (a digest) carries; more wait for the next one.</summary>
    public int MaxEventsPerMessage { get; set; } = 5000;

    /// <summary>Host names listed by name in a Slack, Teams or e-mail digest; the rest are counted.</summary>
    public int MaxListedEvents { get; set; } = 20;

    /// <summary>Delivered events and the delivery log are kept this long.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>The SMTP server e-mail channels send through (configuration section <c>Fleet:Smtp</c>).</summary>
public sealed class SmtpOptions
{
    public const string Section = "Fleet:Smtp";

    public string? Host { get; set; }

    /// <summary>587 (STARTTLS) unless set; 465 means TLS from the first byte.</summary>
    public int Port { get; set; } = 587;

    public string? UserName { get; set; }

    /// <summary>Read from configuration only (an environment variable or a secret store); never stored in the database or logged.</summary>
    public string? Password { get; set; }

    public string? From { get; set; }

    /// <summary>TLS required (STARTTLS, or implicit TLS on 465); false sends in clear, for a relay on the same host only.</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>A PEM file of CA certificates to trust for the SMTP server besides the system store (an internal CA).</summary>
    public string? TrustedCaFile { get; set; }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Host), nameof(From))]
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host) && !string.IsNullOrWhiteSpace(From);
}
