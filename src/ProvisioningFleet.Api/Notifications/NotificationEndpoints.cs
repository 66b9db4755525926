using System.Text.RegularExpressions;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Api.Notifications;

public static partial class NotificationEndpoints
{
    /// <summary>
    /// Channels, the outbox's delivery (a Hangfire queue of its own with its own workers, fed by a poller)
    /// and SMTP. Needs the database, Data Protection (AddFleetCredentials) and Hangfire (AddProvisioningEngine).
    /// </summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<NotificationOptions>().Bind(builder.Configuration.GetSection(NotificationOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.DeliveryTimeout > TimeSpan.Zero && o.FirstBackoff > TimeSpan.Zero && o.MaxBackoff >= o.FirstBackoff,
                "Fleet:Notifications intervals (PollInterval, DeliveryTimeout, FirstBackoff <= MaxBackoff) must be positive: every delivery is bounded.")
            .Validate(o => o.MaxAttempts > 0 && o.MaxEventsPerMessage > 0 && o.MaxListedEvents > 0,
                "Fleet:Notifications counts (MaxAttempts, MaxEventsPerMessage, MaxListedEvents) must be positive.")
            .Validate(o => o.PublicBaseUrl is null || (o.PublicBaseUrl.IsAbsoluteUri && o.PublicBaseUrl.Scheme is "http" or "https"),
                "Fleet:Notifications:PublicBaseUrl must be an absolute http or https URL.")
            .ValidateOnStart();
        services.AddOptions<SmtpOptions>().Bind(builder.Configuration.GetSection(SmtpOptions.Section));
        services.AddHttpClient(ChannelSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // A webhook may not bounce the message (and its signature) elsewhere.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            // The default handlers log request URLs, and a Slack or Teams URL is a credential.
            .RemoveAllLoggers();
        services.AddSingleton<ChannelSecrets>();
        services.AddSingleton<ChannelSender>();
        services.AddSingleton<NotificationDispatcher>();
        services.AddTransient<NotificationJobs>();

        var deliver = builder.Configuration.GetValue(NotificationOptions.Section + ":" + nameof(NotificationOptions.Deliver), true)
            && (builder.Configuration.GetSection(EngineOptions.Section).Get<EngineOptions>() ?? new EngineOptions()).RunJobs;
        if (deliver)
        {
            services.AddHostedService<NotificationPump>();
            services.AddHangfireServer(server =>
            {
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:notifications";
                server.Queues = [NotificationJobs.Queue];
                server.WorkerCount = 2;
                server.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            });
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapNotificationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var channels = endpoints.MapGroup("/api/v1/notifications").WithTags("Notifications");
        channels.MapGet("/", ListAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListNotificationChannels").WithSummary("Notification channels, without their secrets.");
        channels.MapGet("/{id:long}", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetNotificationChannel").WithSummary("One notification channel, without its secret.");
        channels.MapPost("/", CreateAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("CreateNotificationChannel").WithSummary("Adds a channel; its secret (and a Slack or Teams URL) is encrypted and never returned.");
        channels.MapPut("/{id:long}", ReplaceAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("ReplaceNotificationChannel").WithSummary("Replaces a channel; a secret or Slack/Teams URL left out is kept.");
        channels.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("DeleteNotificationChannel").WithSummary("Deletes a channel, its queue and its delivery log.");
        channels.MapPost("/{id:long}/test", TestAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("TestNotificationChannel").WithSummary("Sends a test message now and answers how it went.");
        channels.MapGet("/{id:long}/deliveries", DeliveriesAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("ListNotificationDeliveries").WithSummary("The channel's delivery log, newest first.");
        return endpoints;
    }

    private static Task<Results<Ok<PagedList<NotificationChannelView>>, ValidationProblem>> ListAsync(
        FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page, pageSize, db.NotificationChannels.AsNoTracking(), query => query.OrderBy(c => c.Name), NotificationChannelView.Projection(db), cancellationToken);

    private static async Task<Results<Ok<NotificationChannelView>, NotFound<ProblemDetails>>> GetAsync(
        long id, FleetDbContext db, CancellationToken cancellationToken) =>
        await ViewAsync(db, id, cancellationToken) is { } view ? TypedResults.Ok(view) : NotFound(id);

    private static async Task<Results<Created<NotificationChannelView>, ValidationProblem, Conflict<ProblemDetails>>> CreateAsync(
        NotificationChannelInput input, FleetDbContext db, ChannelSecrets secrets, IOptions<SmtpOptions> smtp, IAuditTrail audit, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var channel = new NotificationChannel { CreatedAt = now };
        if (Apply(channel, input, secrets, smtp.Value, now, creating: true) is { } invalid)
        {
            return invalid;
        }

        db.NotificationChannels.Add(channel);
        audit.Record(db, context.User, "notification.create", $"notification:{channel.Name}", AuditDetails(channel));
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return NameTaken(channel.Name);
        }

        return TypedResults.Created($"/api/v1/notifications/{channel.Id}", (await ViewAsync(db, channel.Id, cancellationToken))!);
    }

    private static async Task<Results<Ok<NotificationChannelView>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> ReplaceAsync(
        long id, NotificationChannelInput input, FleetDbContext db, ChannelSecrets secrets, IOptions<SmtpOptions> smtp, IAuditTrail audit, TimeProvider time,
        HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.NotificationChannels.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } channel)
        {
            return NotFound(id);
        }

        var previousName = channel.Name;
        if (Apply(channel, input, secrets, smtp.Value, time.GetUtcNow(), creating: false) is { } invalid)
        {
            return invalid;
        }

        // A changed channel is tried again at once, and no longer gets what it stopped asking for.
        channel.ConsecutiveFailures = 0;
        channel.NextAttemptAt = null;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        audit.Record(db, context.User, "notification.replace", $"notification:{previousName}", AuditDetails(channel));
        if (!await TrySaveAsync(db, cancellationToken))
        {
            return NameTaken(channel.Name);
        }

        var wanted = channel.Enabled ? channel.Events : [];
        await db.Set<NotificationQueueItem>()
            .Where(q => q.ChannelId == id && !db.NotificationEvents.Any(e => e.Id == q.EventId && wanted.Contains(e.Type)))
            .ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok((await ViewAsync(db, id, cancellationToken))!);
    }

    private static async Task<Results<NoContent, NotFound<ProblemDetails>>> DeleteAsync(
        long id, FleetDbContext db, IAuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.NotificationChannels.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } channel)
        {
            return NotFound(id);
        }

        db.NotificationChannels.Remove(channel);
        audit.Record(db, context.User, "notification.delete", $"notification:{channel.Name}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<NotificationDeliveryView>, NotFound<ProblemDetails>>> TestAsync(
        long id, FleetDbContext db, NotificationDispatcher dispatcher, IAuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.NotificationChannels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is not { } channel)
        {
            return NotFound(id);
        }

        var delivery = await dispatcher.SendTestAsync(channel, cancellationToken);
        audit.Record(db, context.User, "notification.test", $"notification:{channel.Name}", new { delivery.Status, delivery.ResponseCode });
        await db.SaveChangesAsync(CancellationToken.None);
        return TypedResults.Ok(NotificationDeliveryView.From(delivery));
    }

    private static Task<Results<Ok<PagedList<NotificationDeliveryView>>, ValidationProblem, NotFound<ProblemDetails>>> DeliveriesAsync(
        long id, FleetDbContext db, string? page, string? pageSize, CancellationToken cancellationToken) =>
        PageRequest.ListAsync(
            page, pageSize, ct => db.NotificationChannels.AnyAsync(c => c.Id == id, ct), NotFound(id),
            db.NotificationDeliveries.AsNoTracking().Where(d => d.ChannelId == id), query => query.OrderByDescending(d => d.Id),
            NotificationDeliveryView.Projection, cancellationToken);

    private static Task<NotificationChannelView?> ViewAsync(FleetDbContext db, long id, CancellationToken cancellationToken) =>
        db.NotificationChannels.AsNoTracking().Where(c => c.Id == id).Select(NotificationChannelView.Projection(db)).SingleOrDefaultAsync(cancellationToken);

    /// <summary>Validates the input and applies it to <paramref name="channel"/>; nothing is changed when it is invalid.</summary>
    private static ValidationProblem? Apply(NotificationChannel channel, NotificationChannelInput input, ChannelSecrets secrets, SmtpOptions smtp, DateTimeOffset now, bool creating)
    {
        var errors = new ValidationErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "name is required.");
        }
        else if (!ChannelName().IsMatch(name))
        {
            errors.Add("name", "name must be 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        NotificationChannelKind kind = default;
        if (string.IsNullOrWhiteSpace(input.Kind))
        {
            errors.Add("kind", "kind is required: Webhook, Slack, Teams or Email.");
        }
        else if (!Enum.TryParse(input.Kind.Trim(), ignoreCase: true, out kind) || !Enum.IsDefined(kind) || int.TryParse(input.Kind, out _))
        {
            errors.Add("kind", $"kind '{input.Kind}' is not one of Webhook, Slack, Teams, Email.");
        }
        else if (kind == NotificationChannelKind.Email && !smtp.IsConfigured)
        {
            errors.Add("kind", "Email channels need an SMTP server: set Fleet__Smtp__Host and Fleet__Smtp__From.");
        }

        var sameKind = !creating && channel.Kind == kind;
        Uri? url = null;
        var keepUrl = false;
        if (kind != NotificationChannelKind.Email)
        {
            // A Slack or Teams URL is never shown; sending back what GET showed (or nothing) keeps the stored one.
            keepUrl = sameKind && kind != NotificationChannelKind.Webhook && channel.ProtectedUrl is not null
                && (string.IsNullOrWhiteSpace(input.Url) || input.Url.Trim() == channel.Url);
            if (!keepUrl)
            {
                if (string.IsNullOrWhiteSpace(input.Url))
                {
                    errors.Add("url", $"url is required for a {kind} channel.");
                }
                else if (!Uri.TryCreate(input.Url.Trim(), UriKind.Absolute, out url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0 || input.Url.Length > 2048)
                {
                    errors.Add("url", "url must be an absolute http or https URL of at most 2048 characters.");
                }
            }
        }
        else if (!string.IsNullOrWhiteSpace(input.Url))
        {
            errors.Add("url", "An Email channel has no url; it sends through the configured SMTP server to 'to'.");
        }

        if (input.Secret is { Length: > 0 } && kind != NotificationChannelKind.Webhook)
        {
            errors.Add("secret", "Only a Webhook channel signs its messages with a secret.");
        }
        else if (input.Secret is { Length: > 1024 })
        {
            errors.Add("secret", "secret must be at most 1024 characters.");
        }

        var to = (input.To ?? []).Select(a => a?.Trim() ?? "").ToArray();
        if (kind == NotificationChannelKind.Email)
        {
            if (to.Length == 0)
            {
                errors.Add("to", "to needs at least one address for an Email channel.");
            }
            else if (to.Length > 50)
            {
                errors.Add("to", "to takes at most 50 addresses.");
            }

            for (var i = 0; i < to.Length; i++)
            {
                if (!MailboxAddress.TryParse(to[i], out var address) || !address.Address.Contains('@') || to[i].Length > 320)
                {
                    errors.Add($"to[{i}]", $"'{to[i]}' is not an e-mail address.");
                }
            }
        }
        else if (to.Length > 0)
        {
            errors.Add("to", "Only an Email channel has recipients.");
        }

        var events = new List<string>();
        if (input.Events is not { Length: > 0 })
        {
            errors.Add("events", $"events needs at least one of: {string.Join(", ", NotificationEventTypes.All)}.");
        }
        else
        {
            for (var i = 0; i < input.Events.Length; i++)
            {
                var known = NotificationEventTypes.All.FirstOrDefault(t => string.Equals(t, input.Events[i]?.Trim(), StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    errors.Add($"events[{i}]", $"'{input.Events[i]}' is not an event; events are {string.Join(", ", NotificationEventTypes.All)}.");
                }
                else if (!events.Contains(known))
                {
                    events.Add(known);
                }
            }
        }

        if (input.MinimumIntervalMinutes is < 0 or > 1440)
        {
            errors.Add("minimumIntervalMinutes", "minimumIntervalMinutes must be from 0 (a message per event) to 1440.");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        channel.Name = name!;
        channel.Kind = kind;
        channel.To = kind == NotificationChannelKind.Email ? to : [];
        channel.Events = [.. events];
        channel.MinimumIntervalMinutes = input.MinimumIntervalMinutes ?? 0;
        channel.Enabled = input.Enabled ?? true;
        channel.UpdatedAt = now;
        if (!keepUrl)
        {
            channel.Url = kind switch
            {
                NotificationChannelKind.Webhook => url!.ToString(),
                NotificationChannelKind.Email => null,
                _ => ChannelSecrets.Redact(url!),
            };
            channel.ProtectedUrl = kind is NotificationChannelKind.Slack or NotificationChannelKind.Teams ? secrets.Protect(url!.ToString()) : null;
        }

        // Left out on a replace, the stored secret stays; an empty string removes it.
        if (kind != NotificationChannelKind.Webhook || input.Secret is { Length: 0 } || (input.Secret is null && (creating || !sameKind)))
        {
            channel.ProtectedSecret = null;
        }
        else if (input.Secret is { Length: > 0 } secret)
        {
            channel.ProtectedSecret = secrets.Protect(secret);
        }

        return null;
    }

    private static async Task<bool> TrySaveAsync(FleetDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return false;
        }
    }

    // What the audit log keeps of a channel: never its secret, nor a Slack or Teams URL (only its host, as shown).
    private static object AuditDetails(NotificationChannel c) =>
        new { c.Name, Kind = c.Kind.ToString(), c.Url, c.To, c.Events, c.MinimumIntervalMinutes, c.Enabled, HasSecret = c.ProtectedSecret is not null };

    private static NotFound<ProblemDetails> NotFound(long id) =>
        Problems.NotFound("Notification channel not found", $"There is no notification channel {id}.");

    private static Conflict<ProblemDetails> NameTaken(string name) =>
        Problems.Conflict("Notification channel name taken", $"A notification channel named '{name}' already exists.");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex ChannelName();
}

/// <summary>A channel as sent: <c>secret</c> (and a Slack or Teams <c>url</c>) are accepted here and never returned.</summary>
public sealed record NotificationChannelInput(
    string? Name, string? Kind, string? Url, string? Secret, string?[]? To, string?[]? Events, int? MinimumIntervalMinutes, bool? Enabled);

/// <summary>
/// A channel as returned: <c>url</c> in full for a webhook, scheme and host only for Slack and Teams;
/// <c>hasSecret</c> instead of the secret; <c>pending</c> events waiting for it.
/// </summary>
public sealed record NotificationChannelView(
    long Id, string Name, NotificationChannelKind Kind, string? Url, bool HasSecret, string[] To, string[] Events, int MinimumIntervalMinutes, bool Enabled,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? LastSentAt, int Pending, int ConsecutiveFailures, DateTimeOffset? NextAttemptAt)
{
    public static System.Linq.Expressions.Expression<Func<NotificationChannel, NotificationChannelView>> Projection(FleetDbContext db) =>
        c => new NotificationChannelView(c.Id, c.Name, c.Kind, c.Url, c.ProtectedSecret != null, c.To, c.Events, c.MinimumIntervalMinutes, c.Enabled,
            c.CreatedAt, c.UpdatedAt, c.LastSentAt, db.Set<NotificationQueueItem>().Count(q => q.ChannelId == c.Id), c.ConsecutiveFailures, c.NextAttemptAt);
}

/// <summary>One attempt in a channel's delivery log (api.md), with <c>eventCount</c> for digests.</summary>
public sealed record NotificationDeliveryView(
    long Id, long? EventId, string Type, int EventCount, int Attempt, NotificationDeliveryStatus Status, int? ResponseCode, string? Error, DateTimeOffset At)
{
    public static readonly System.Linq.Expressions.Expression<Func<NotificationDelivery, NotificationDeliveryView>> Projection =
        d => new NotificationDeliveryView(d.Id, d.EventId, d.Type, d.EventCount, d.Attempt, d.Status, d.ResponseCode, d.Error, d.At);

    public static NotificationDeliveryView From(NotificationDelivery d) => new(d.Id, d.EventId, d.Type, d.EventCount, d.Attempt, d.Status, d.ResponseCode, d.Error, d.At);
}
