using Cronos;
using Hangfire;
using ProvisioningFleet.Api.Sweeps;

namespace ProvisioningFleet.Api.Jobs;

/// <summary>The recurring jobs: the sweep on the policy's cron, and the daily pruning of old history.</summary>
public sealed class SweepSchedule(IRecurringJobManager recurring)
{
    public const string SweepJobId = "fleet-sweep";
    public const string PruneJobId = "fleet-history-pruning";

    /// <summary>The policy speaks standard five-field cron in UTC.</summary>
    public static bool IsValidCron(string expression) => CronExpression.TryParse(expression, CronFormat.Standard, out _);

    public void Apply(string sweepCron)
    {
        var utc = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        recurring.AddOrUpdate<SweepJobs>(SweepJobId, jobs => jobs.ScheduledSweepAsync(CancellationToken.None), sweepCron, utc);
        recurring.AddOrUpdate<HistoryPruning>(PruneJobId, pruning => pruning.PruneAsync(CancellationToken.None), "17 3 * * *", utc);
    }
}
