using System.Diagnostics.Metrics;
using Hangfire;
using Hangfire.States;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Api.Engine;
using ProvisioningFleet.Api.Jobs;
using ProvisioningFleet.Data;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 15: in a million-device sweep one shard's job stayed Enqueued for good while its queue row was kept taken by
/// the storage's heartbeat, with no worker running it. Here a job is taken the same way (fetched through the real
/// storage and never started, its heartbeat live) and the stalled-job release hands it back to the queue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StalledJobReleaseTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    // No worker serves these queues, so only the tests take their jobs; one each, as they share a database.
    private const string Queue = "stalled-test";
    private const string OtherQueue = "stalled-test-other";
    private static readonly TimeSpan StalledAfter = TimeSpan.FromMinutes(3);

    // The shortest allowed: the heartbeat refreshes a taken row every 3 seconds.
    protected override void ConfigureSettings(IDictionary<string, string?> settings) =>
        settings["Fleet:Engine:JobInvisibilityTimeout"] = "00:00:15";

    [Fact]
    public async Task A_job_taken_and_never_started_is_handed_back_and_its_orphaned_heartbeat_stops()
    {
        var storage = Api.Services.GetRequiredService<JobStorage>();
        var jobId = Api.Services.GetRequiredService<IBackgroundJobClient>()
            .Create<HistoryPruning>(p => p.PruneAsync(CancellationToken.None), new EnqueuedState(Queue));
        using var connection = storage.GetConnection();
        using var orphan = connection.FetchNextJob([Queue], CancellationToken.None);
        Assert.Equal(jobId, orphan.JobId);

        // The storage keeps the row taken for a worker that never runs the job.
        var takenAt = await FetchedAtAsync(jobId);
        Assert.NotNull(takenAt);
        await Eventually.MatchAsync(() => FetchedAtAsync(jobId), at => at > takenAt, "the heartbeat to refresh the taken row", TimeSpan.FromSeconds(20));

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = Release(time);
        Assert.DoesNotContain(await release.CheckAsync(CancellationToken.None), j => j.Queue == Queue);
        time.Advance(StalledAfter - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(await release.CheckAsync(CancellationToken.None), j => j.Queue == Queue);
        time.Advance(TimeSpan.FromSeconds(1));
        var released = Assert.Single(await release.CheckAsync(CancellationToken.None), j => j.Queue == Queue);
        Assert.Equal((JobKey(jobId), Queue), (released.JobId, released.Queue));
        Assert.Null(await FetchedAtAsync(jobId));

        // Past two heartbeat intervals the orphan has not taken the row back, and a worker can take the job.
        await Task.Delay(TimeSpan.FromSeconds(7));
        Assert.Null(await FetchedAtAsync(jobId));
        using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var again = connection.FetchNextJob([Queue], waiting.Token);
        Assert.Equal(jobId, again.JobId);
        again.RemoveFromQueue();
    }

    [Fact]
    public async Task A_started_job_and_a_job_in_the_queue_are_left_alone()
    {
        var jobs = Api.Services.GetRequiredService<IBackgroundJobClient>();
        var started = jobs.Create<HistoryPruning>(p => p.PruneAsync(CancellationToken.None), new EnqueuedState(OtherQueue));
        using var connection = Api.Services.GetRequiredService<JobStorage>().GetConnection();
        using var running = connection.FetchNextJob([OtherQueue], CancellationToken.None);
        Assert.Equal(started, running.JobId);
        await using (var db = Api.CreateDbContext())
        {
            // What a worker's move to Processing leaves in the job row (Hangfire keeps that constructor to itself).
            await db.Database.ExecuteSqlRawAsync($"UPDATE {FleetJobsExtensions.HangfireSchema}.job SET statename = 'Processing' WHERE id = {{0}}", JobKey(started));
        }

        var waiting = jobs.Create<HistoryPruning>(p => p.PruneAsync(CancellationToken.None), new EnqueuedState(OtherQueue));

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = Release(time);
        foreach (var _ in Enumerable.Range(0, 3))
        {
            Assert.DoesNotContain(await release.CheckAsync(CancellationToken.None), j => j.Queue == OtherQueue);
            time.Advance(StalledAfter);
        }

        Assert.NotNull(await FetchedAtAsync(started));
        Assert.Null(await FetchedAtAsync(waiting));
        running.RemoveFromQueue();
    }

    private StalledJobRelease Release(TimeProvider time) => new(
        Api.Services.GetRequiredService<IDbContextFactory<FleetDbContext>>(),
        time,
        Options.Create(new EngineOptions { StalledJobAfter = StalledAfter }),
        Api.Services.GetRequiredService<IMeterFactory>(),
        NullLogger<StalledJobRelease>.Instance);

    private static long JobKey(string jobId) => long.Parse(jobId, System.Globalization.CultureInfo.InvariantCulture);

    private async Task<DateTime?> FetchedAtAsync(string jobId)
    {
        await using var db = Api.CreateDbContext();
        return await db.Database
            .SqlQueryRaw<DateTime?>($"SELECT fetchedat AS \"Value\" FROM {FleetJobsExtensions.HangfireSchema}.jobqueue WHERE jobid = {{0}}", JobKey(jobId))
            .SingleAsync();
    }
}
