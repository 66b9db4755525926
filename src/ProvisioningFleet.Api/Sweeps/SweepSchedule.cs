using Cronos;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Jobs;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Sweeps;

/// <summary>The recurring jobs: the sweep on the policy's cron, and the daily pruning of old history.</summary>
public sealed class SweepSchedule(IRecurringJobManager recurring)
{
    public const string SweepJobId = "fleet-sweep";
    public const string PruneJobId = "fleet-history-pruning";

    /// <summary>The policy speaks standard five-field cron in UTC.</summary>
    public static bool IsValidCron(string expression) => CronExpression.TryParse(expression, CronFormat.Standard, out _);

    /// <summary>Long enough for any date that exists at all (29 February skips 2100: eight years apart).</summary>
    public const int FiresWithinYears = 8;

    /// <summary>Whether a valid expression ever fires: "0 0 31 2 *" parses but names a date that never comes.</summary>
    public static bool Fires(string expression, DateTimeOffset now) =>
        CronExpression.Parse(expression, CronFormat.Standard).GetNextOccurrence(now, TimeZoneInfo.Utc) is { } next
        && next <= now.AddYears(FiresWithinYears);

    public void Apply(string sweepCron)
    {
        var utc = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        recurring.AddOrUpdate<SweepJobs>(SweepJobId, jobs => jobs.ScheduledSweepAsync(CancellationToken.None), sweepCron, utc);
        recurring.AddOrUpdate<HistoryPruning>(PruneJobId, pruning => pruning.PruneAsync(CancellationToken.None), "17 3 * * *", utc);
    }
}

/// <summary>Creates Hangfire's schema and puts the recurring jobs on the stored policy's schedule, once the database is migrated.</summary>
internal sealed class SweepScheduleRegistration(IServiceProvider services, IDbContextFactory<FleetDbContext> contexts) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<JobStorage>();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var cron = await db.Policies.AsNoTracking().Select(p => p.SweepCron).SingleAsync(cancellationToken);
        services.GetRequiredService<SweepSchedule>().Apply(cron);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
