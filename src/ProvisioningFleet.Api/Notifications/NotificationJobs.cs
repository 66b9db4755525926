using System.ComponentModel;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Notifications;

namespace ProvisioningFleet.Api.Notifications;

/// <summary>
/// The delivery jobs, on their own Hangfire queue served by their own workers: a channel that never
/// answers holds a notification worker for at most the delivery timeout and never a sweep's.
/// Retries and back-off are the channel's own (kept in the database), not Hangfire's.
/// </summary>
public sealed class NotificationJobs(
    NotificationDispatcher dispatcher,
    IDbContextFactory<FleetDbContext> contexts,
    IOptions<NotificationOptions> options,
    TimeProvider time)
{
    public const string Queue = "notifications";

    [Queue(Queue)]
    [DisplayName("Notifications: deliver")]
    [AutomaticRetry(Attempts = 0)]
    public Task DrainAsync(CancellationToken cancellationToken) => dispatcher.DrainAsync(cancellationToken);

    [Queue(Queue)]
    [DisplayName("Notifications: prune old events and deliveries")]
    [AutomaticRetry(Attempts = 2)]
    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await NotificationQueueStore.PruneAsync(db, time.GetUtcNow() - options.Value.Retention, cancellationToken);
    }
}

/// <summary>
/// Looks for work every <see cref="NotificationOptions.PollInterval"/> and queues one drain job when there
/// is some and none of this instance's is still waiting or running; the database query is cheap (a partial
/// index on undispatched events, a handful of channel rows).
/// </summary>
internal sealed partial class NotificationPump(
    IServiceProvider services,
    IDbContextFactory<FleetDbContext> contexts,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationPump> logger) : BackgroundService
{
    private string? _lastJobId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var jobs = services.GetRequiredService<IBackgroundJobClient>();
        var storage = services.GetRequiredService<JobStorage>();
        services.GetRequiredService<IRecurringJobManager>()
            .AddOrUpdate<NotificationJobs>("notifications-prune", NotificationJobs.Queue, j => j.PruneAsync(CancellationToken.None), Cron.Daily());

        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        do
        {
            try
            {
                if (!StillPending(storage) && await AnyWorkAsync(stoppingToken))
                {
                    _lastJobId = jobs.Enqueue<NotificationJobs>(j => j.DrainAsync(CancellationToken.None));
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The database may be away for a moment; the outbox keeps everything until the next look.
                LogLookFailed(logger, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private bool StillPending(JobStorage storage)
    {
        if (_lastJobId is null)
        {
            return false;
        }

        using var connection = storage.GetConnection();
        return connection.GetJobData(_lastJobId)?.State is "Enqueued" or "Processing" or "Scheduled" or "Awaiting";
    }

    private async Task<bool> AnyWorkAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await NotificationQueueStore.AnyWorkAsync(db, time.GetUtcNow(), cancellationToken);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for notifications to deliver failed; trying again at the next interval")]
    private static partial void LogLookFailed(ILogger logger, Exception exception);
}
