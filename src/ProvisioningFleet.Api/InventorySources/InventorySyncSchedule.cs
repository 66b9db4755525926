using Hangfire;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.InventorySources;

/// <summary>One Hangfire recurring job per enabled source, on the source's own cron (UTC).</summary>
public sealed class InventorySyncSchedule(IRecurringJobManager recurring)
{
    public static string JobId(long sourceId) => $"inventory-source-{sourceId}";

    public void Apply(long sourceId, string cron, bool enabled)
    {
        if (!enabled)
        {
            Remove(sourceId);
            return;
        }

        recurring.AddOrUpdate<InventorySync>(JobId(sourceId), sync => sync.ScheduledAsync(sourceId, CancellationToken.None), cron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }

    public void Remove(long sourceId) => recurring.RemoveIfExists(JobId(sourceId));

    /// <summary>At start-up, once the database is migrated: the stored sources' schedules, whatever Hangfire kept.</summary>
    internal sealed class Registration(IServiceProvider services, IDbContextFactory<FleetDbContext> contexts) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<JobStorage>();
            var schedule = services.GetRequiredService<InventorySyncSchedule>();
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            foreach (var source in await db.InventorySources.AsNoTracking().Select(s => new { s.Id, s.SyncCron, s.Enabled }).ToListAsync(cancellationToken))
            {
                schedule.Apply(source.Id, source.SyncCron, source.Enabled);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
