using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Api.Notifications;

/// <summary>An event as it leaves the outbox: the webhook body's <c>{id, type, occurredAt, data}</c>.</summary>
public sealed record OutgoingEvent(long Id, string Type, DateTimeOffset OccurredAt, JsonElement Data)
{
    public const string DigestType = "digest";
    public const string TestType = "test";

    [JsonIgnore]
    public long? DeviceId => Number("deviceId");
    [JsonIgnore]
    public long? SweepId => Number("sweepId");
    [JsonIgnore]
    public string? HostName => Text("hostName");

    public string? Text(string name) =>
        Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public long? Number(string name) =>
        Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    public static OutgoingEvent From(NotificationEvent stored) =>
        new(stored.Id, stored.Type, stored.OccurredAt, JsonDocument.Parse(stored.Data).RootElement.Clone());
}

/// <summary>A line a person reads, with the page it points to (null without a public base URL).</summary>
public sealed record MessageLine(string Text, Uri? Link);

/// <summary>
/// What a message says to a person, shared by Slack, Teams and e-mail: a title, one line per event
/// (the first <see cref="NotificationOptions.MaxListedEvents"/> of a digest), and how many more there were.
/// </summary>
public sealed record HumanMessage(string Title, IReadOnlyList<MessageLine> Lines, int NotListed, Uri? OverviewLink)
{
    public static HumanMessage For(IReadOnlyList<OutgoingEvent> events, NotificationOptions options)
    {
        var links = new PageLinks(options.PublicBaseUrl);
        var listed = events.Take(Math.Max(1, options.MaxListedEvents)).Select(e => new MessageLine(Describe(e), links.For(e))).ToList();
        var title = events.Count == 1
            ? TitleOf(events[0])
            : $"ProvisioningFleet: {events.Count} events ({string.Join(", ", events.GroupBy(e => e.Type).Select(g => $"{g.Count()} {Plain(g.Key)}"))})";
        return new HumanMessage(title, listed, events.Count - listed.Count, links.Overview);
    }

    public string PlainText()
    {
        var text = new StringBuilder();
        foreach (var line in Lines)
        {
            text.Append("- ").Append(line.Text);
            if (line.Link is not null)
            {
                text.Append(" <").Append(line.Link).Append('>');
            }

            text.Append('\n');
        }

        if (NotListed > 0)
        {
            text.Append("… and ").Append(NotListed.ToString(CultureInfo.InvariantCulture)).Append(" more");
            text.Append(OverviewLink is null ? "" : $" (see {OverviewLink})").Append('\n');
        }

        return text.ToString();
    }

    private static string TitleOf(OutgoingEvent e) => e.Type switch
    {
        NotificationEventTypes.DeviceOverdue => $"{e.HostName} is stuck in provisioning mode (Overdue)",
        NotificationEventTypes.DeviceIdentityMismatch => $"{e.HostName}: the client answering is not the expected one",
        NotificationEventTypes.RemediationSucceeded => $"{e.HostName} taken out of provisioning mode",
        NotificationEventTypes.RemediationFailed => $"Remediation of {e.HostName} failed",
        NotificationEventTypes.SweepCompleted => $"Sweep {e.SweepId} completed",
        NotificationEventTypes.SweepFailed => $"Sweep {e.SweepId} failed",
        OutgoingEvent.TestType => "ProvisioningFleet test message",
        _ => $"ProvisioningFleet: {e.Type}",
    };

    private static string Describe(OutgoingEvent e) => e.Type switch
    {
        NotificationEventTypes.DeviceOverdue =>
            $"{e.HostName}: Overdue (was {e.Text("fromState")}){Since(e.Text("overdueAt"), "past its timeout since")}",
        NotificationEventTypes.DeviceIdentityMismatch =>
            $"{e.HostName}: identity mismatch{(e.Text("clientId") is { } id ? $" (client {id})" : "")}; not remediated",
        NotificationEventTypes.RemediationSucceeded =>
            $"{e.HostName}: remediation {e.Number("remediationId")} succeeded{(e.SweepId is { } s ? $" in sweep {s}" : $", asked by {e.Text("actor")}")}",
        NotificationEventTypes.RemediationFailed =>
            $"{e.HostName}: remediation {e.Number("remediationId")} failed: {ErrorOf(e)}",
        NotificationEventTypes.SweepCompleted =>
            $"Sweep {e.SweepId} completed{DryRun(e)}: {e.Number("probed")} of {e.Number("total")} probed, {e.Number("remediated")} remediated, "
            + $"{e.Number("remediationsFailed")} failed, {e.Number("skipped")} skipped{Overdue(e)}",
        NotificationEventTypes.SweepFailed =>
            $"Sweep {e.SweepId} failed{DryRun(e)} after {e.Number("probed")} of {e.Number("total")} devices: {e.Text("error")}",
        OutgoingEvent.TestType => $"A test message from ProvisioningFleet, sent {e.OccurredAt:yyyy-MM-dd HH:mm:ss} UTC.",
        _ => e.Type,
    };

    private static string ErrorOf(OutgoingEvent e) =>
        e.Data.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message)
            ? message.GetString() ?? "unknown error"
            : "unknown error";

    private static string Since(string? time, string words) =>
        DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? $", {words} {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : "";

    private static string DryRun(OutgoingEvent e) =>
        e.Data.TryGetProperty("dryRun", out var dry) && dry.ValueKind == JsonValueKind.True ? " (dry run)" : "";

    private static string Overdue(OutgoingEvent e) =>
        e.Data.TryGetProperty("byState", out var byState) && byState.ValueKind == JsonValueKind.Object
        && byState.TryGetProperty("Overdue", out var overdue) && overdue.ValueKind == JsonValueKind.Number
            ? $"; {overdue.GetInt32()} found Overdue"
            : "";

    private static string Plain(string type) => type.Replace('.', ' ');
}

/// <summary>Links back to the operators' pages: a device's page, the sweeps on the overview.</summary>
public sealed class PageLinks(Uri? publicBaseUrl)
{
    public Uri? Overview => Build("ui/overview.html");

    public Uri? For(OutgoingEvent e) => e switch
    {
        { DeviceId: { } id } => Build($"ui/device.html?id={id}"),
        { SweepId: not null } => Build("ui/overview.html#sweeps"),
        _ => Overview,
    };

    private Uri? Build(string relative) =>
        publicBaseUrl is null ? null : new Uri(new Uri(publicBaseUrl.ToString().TrimEnd('/') + "/"), relative);
}

/// <summary>The bodies each kind of HTTP channel expects.</summary>
public static class HttpMessageBodies
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// A generic webhook: one event as <c>{id, type, occurredAt, data}</c>; a digest as the same shape with type
    /// <c>digest</c>, the id of its last event, and <c>data: {count, events: [...]}</c>.
    /// </summary>
    public static (string Type, byte[] Body) Webhook(IReadOnlyList<OutgoingEvent> events, DateTimeOffset now)
    {
        if (events.Count == 1)
        {
            return (events[0].Type, JsonSerializer.SerializeToUtf8Bytes(events[0], Json));
        }

        var digest = new { id = events[^1].Id, type = OutgoingEvent.DigestType, occurredAt = now, data = new { count = events.Count, events } };
        return (OutgoingEvent.DigestType, JsonSerializer.SerializeToUtf8Bytes(digest, Json));
    }

    /// <summary>A Slack incoming webhook: <c>text</c> (notifications, fallbacks) and mrkdwn section blocks with <c>&lt;url|text&gt;</c> links.</summary>
    public static byte[] Slack(HumanMessage message)
    {
        var lines = message.Lines.Select(l => l.Link is null ? Escape(l.Text) : $"<{l.Link}|{Escape(l.Text)}>").ToList();
        if (message.NotListed > 0)
        {
            lines.Add(message.OverviewLink is null ? $"… and {message.NotListed} more" : $"<{message.OverviewLink}|… and {message.NotListed} more>");
        }

        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Cut(message.Title, 150) } },
        };
        // A section's text is limited to 3,000 characters: the lines are split across as many sections as they need.
        foreach (var chunk in Chunks(lines, 2900))
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = chunk } });
        }

        var body = new JsonObject { ["text"] = Escape(message.Title), ["blocks"] = blocks };
        return JsonSerializer.SerializeToUtf8Bytes(body, Json);
    }

    /// <summary>
    /// A Microsoft Teams incoming webhook (Workflows, and the older connectors): a message with one Adaptive Card,
    /// markdown links in its text blocks and an "Open" action to the page.
    /// </summary>
    public static byte[] Teams(HumanMessage message)
    {
        var body = new JsonArray
        {
            new JsonObject { ["type"] = "TextBlock", ["text"] = message.Title, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
        };
        foreach (var line in message.Lines)
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = line.Link is null ? line.Text : $"[{line.Text}]({line.Link})", ["wrap"] = true });
        }

        if (message.NotListed > 0)
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = $"… and {message.NotListed} more", ["wrap"] = true, ["isSubtle"] = true });
        }

        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
        };
        var target = message.Lines.Count == 1 && message.NotListed == 0 ? message.Lines[0].Link : message.OverviewLink;
        if (target is not null)
        {
            card["actions"] = new JsonArray { new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open", ["url"] = target.ToString() } };
        }

        var envelope = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["contentUrl"] = null, ["content"] = card },
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope, Json);
    }

    // Slack's mrkdwn treats these three as control characters.
    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static IEnumerable<string> Chunks(IEnumerable<string> lines, int size)
    {
        var chunk = new StringBuilder();
        foreach (var line in lines.Select(l => Cut(l, size)))
        {
            if (chunk.Length > 0 && chunk.Length + line.Length + 1 > size)
            {
                yield return chunk.ToString();
                chunk.Clear();
            }

            chunk.Append(chunk.Length > 0 ? "\n" : "").Append(line);
        }

        if (chunk.Length > 0)
        {
            yield return chunk.ToString();
        }
    }
}
