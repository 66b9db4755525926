using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Scenarios;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

[Collection(PostgresCollection.Name)]
public sealed class SweepTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    private static void Overdue(SimulatedDevice d) => d.EnterProvisioningMode(TimeSpan.FromDays(3));

    /// <summary>What the verdict on a simulated device must be, from its ground truth (grace 60 minutes).</summary>
    private static DeviceState Expected(SimulatedDevice d) => d switch
    {
        { Behavior: DeviceBehavior.RefuseConnections or DeviceBehavior.Silent or DeviceBehavior.Stall } => DeviceState.Unreachable,
        { Behavior: DeviceBehavior.AccessDenied } => DeviceState.AccessDenied,
        { Behavior: DeviceBehavior.Malformed } => DeviceState.Error,
        { ClientInstalled: false } => DeviceState.NoClient,
        { InProvisioningMode: false } => DeviceState.Healthy,
        { TaskSequenceRunning: true } => DeviceState.TaskSequenceRunning,
        _ when d.CurrentTime >= DateTimeOffset.FromUnixTimeSeconds(d.ProvisioningEnabledTime!.Value).AddMinutes(d.EffectiveMaxMinutes + 60) => DeviceState.Overdue,
        _ => DeviceState.Provisioning,
    };

    [Fact]
    public async Task A_sweep_of_2000_devices_finishes_with_exact_counts_and_fixes_only_the_overdue()
    {
        var devices = FleetScenario.Generate(new FleetMix { Devices = 2000, Flaky = 0, HostPrefix = "pc-", Domain = Fleet.Tag + ".test", Seed = 7 });
        foreach (var device in devices.Where(d => d.Behavior == DeviceBehavior.Silent))
        {
            // Silent devices cost the whole probe timeout each; refusing ones test the same verdict in milliseconds.
            device.Behavior = DeviceBehavior.RefuseConnections;
        }

        var expected = devices.ToDictionary(d => d, Expected);
        var overdue = devices.Where(d => expected[d] == DeviceState.Overdue).ToList();
        Assert.InRange(overdue.Count, 20, 80);
        Assert.Contains(devices, d => expected[d] == DeviceState.TaskSequenceRunning);
        await Fleet.RegisterAsync(devices);
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);

        var sweep = await Fleet.SweepAsync(operatorClient);

        Assert.Equal(SweepStatus.Completed, sweep.Status);
        Assert.Equal(2000, sweep.Total);
        Assert.Equal(2000, sweep.Probed);
        foreach (var state in Enum.GetValues<DeviceState>())
        {
            Assert.True(expected.Values.Count(s => s == state) == sweep.ByState[state.ToString()], $"{state}: expected {expected.Values.Count(s => s == state)}, swept {sweep.ByState[state.ToString()]}");
        }

        Assert.Equal(overdue.Count, sweep.Remediated);
        Assert.Equal(0, sweep.RemediationsFailed);
        Assert.Equal(0, sweep.Skipped);
        Assert.All(devices, d => Assert.Equal(expected[d] == DeviceState.Overdue ? 1 : 0, Fleet.FixesSentTo(d)));
        Assert.All(overdue, d => Assert.False(d.InProvisioningMode));
        // Healthy devices cost one round trip each; the figure is kept on the sweep.
        Assert.InRange(sweep.RoundTrips, 2000, 2000 + 20L * devices.Count(d => expected[d] is not DeviceState.Healthy));

        await using var db = Api.CreateDbContext();
        var stored = await db.Devices.AsNoTracking().Where(d => d.TagKeys.Contains(Fleet.Tag)).GroupBy(d => d.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
        Assert.Equal(overdue.Count + expected.Values.Count(s => s == DeviceState.Healthy), stored.Single(s => s.Key == DeviceState.Healthy).Count);
        Assert.Equal(2000, await db.DeviceStateChanges.CountAsync(c => c.SweepId == sweep.Id));
    }

    [Fact]
    public async Task Task_sequences_exclusions_and_the_blast_radius_hold_in_a_sweep()
    {
        var stuck = new List<SimulatedDevice>();
        for (var i = 0; i < 10; i++)
        {
            stuck.Add(await Fleet.AddAsync($"stuck-{i}", Overdue));
        }

        var busy = await Fleet.AddAsync("busy", d => { Overdue(d); d.TaskSequences = [new SimulatedTaskSequence("{A}", "PS100042", "PS12345A", SimulatedTaskSequence.Running)]; });
        var excluded = await Fleet.AddAsync("excluded", Overdue, excluded: true);
        var inside = await Fleet.AddAsync("inside", d => d.EnterProvisioningMode(TimeSpan.FromMinutes(10)));
        Assert.Equal(HttpStatusCode.OK, (await Fleet.Admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *", maxRemediationsPerSweep = 3 })).StatusCode);

        var sweep = await Fleet.SweepAsync(Fleet.Admin);

        Assert.Equal(3, sweep.Remediated);
        Assert.Equal(7 + 1, sweep.Skipped);
        Assert.Equal(3, stuck.Sum(Fleet.FixesSentTo));
        Assert.Equal(0, Fleet.FixesSentTo(busy) + Fleet.FixesSentTo(excluded) + Fleet.FixesSentTo(inside));
        Assert.Equal(1, sweep.ByState[nameof(DeviceState.TaskSequenceRunning)]);
        var records = await Fleet.RemediationsOfAsync(sweep.Id);
        Assert.Equal(7, records.Count(r => r.SkipReason == RemediationSkipReason.BlastRadius));
        Assert.Single(records, r => r.SkipReason == RemediationSkipReason.Excluded && r.DeviceId == Fleet.IdOf(excluded));
        Assert.DoesNotContain(records, r => r.DeviceId == Fleet.IdOf(busy) || r.DeviceId == Fleet.IdOf(inside));
    }

    [Fact]
    public async Task A_device_that_a_manual_fix_holds_is_skipped_as_Locked_by_a_sweep()
    {
        var held = await Fleet.AddAsync("held", Overdue);
        await using (var db = Api.CreateDbContext())
        {
            db.Remediations.Add(new Remediation
            {
                DeviceId = Fleet.IdOf(held),
                HostName = held.HostName,
                Trigger = RemediationTrigger.Manual,
                Actor = "another instance",
                RequestedAt = DateTimeOffset.UtcNow,
                Outcome = RemediationOutcome.InProgress,
            });
            await db.SaveChangesAsync();
        }

        var sweep = await Fleet.SweepAsync(Fleet.Admin);

        Assert.Equal(SweepStatus.Completed, sweep.Status);
        Assert.Equal(0, sweep.Remediated);
        Assert.Equal(1, sweep.Skipped);
        Assert.Equal(0, Fleet.FixesSentTo(held));
        Assert.Equal(RemediationSkipReason.Locked, Assert.Single(await Fleet.RemediationsOfAsync(sweep.Id)).SkipReason);
    }

    [Fact]
    public async Task A_dry_run_sweep_counts_what_it_would_fix_and_changes_nothing()
    {
        var stuck = await Fleet.AddAsync("dry-stuck", Overdue);
        var other = await Fleet.AddAsync("dry-stuck-2", Overdue);
        await Fleet.AddAsync("dry-fine");

        var sweep = await Fleet.SweepAsync(Fleet.Admin, dryRun: true);

        Assert.True(sweep.DryRun);
        Assert.Equal(2, sweep.WouldRemediate);
        Assert.Equal(0, sweep.Remediated);
        Assert.True(stuck.InProvisioningMode && other.InProvisioningMode);
        Assert.DoesNotContain(Fleet.Simulator.Fleet.AllInvocations(), i => i.ClassName == "SMS_Client");
        Assert.All(await Fleet.RemediationsOfAsync(sweep.Id), r => Assert.Equal(RemediationOutcome.DryRun, r.Outcome));
        var summary = await Fleet.Admin.GetFromJsonAsync<Fleet.FleetSummary>("/api/v1/fleet/summary", Json.Options);
        Assert.Equal(sweep.Id, summary!.LastSweep?.Id);
        Assert.True(summary.Overdue >= 2);
    }

    [Fact]
    public async Task A_shard_run_again_after_a_crash_never_fixes_a_device_twice()
    {
        var stuck = await Fleet.AddAsync("crash-stuck", Overdue);
        await Fleet.AddAsync("crash-fine");
        var sweep = await Fleet.SweepAsync(Fleet.Admin);
        Assert.Equal(1, Fleet.FixesSentTo(stuck));

        // As if the worker had died after the fix but before its batch was written: the shard is not done,
        // nothing is marked processed, and the device is (again) in provisioning mode.
        Overdue(stuck);
        await using (var db = Api.CreateDbContext())
        {
            await db.Sweeps.Where(s => s.Id == sweep.Id).ExecuteUpdateAsync(set => set.SetProperty(s => s.Status, SweepStatus.Running).SetProperty(s => s.ShardsCompleted, 0).SetProperty(s => s.ShardCount, 1));
            db.Set<SweepShard>().Add(new SweepShard { SweepId = sweep.Id, Index = 0, DeviceIds = [.. Fleet.Ids.Values] });
            await db.SaveChangesAsync();
        }

        using (var scope = Api.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<SweepJobs>().RunShardAsync(sweep.Id, 0, null, CancellationToken.None);
        }

        Assert.Equal(1, Fleet.FixesSentTo(stuck));
        Assert.Single(await Fleet.RemediationsOfAsync(sweep.Id), r => r.DeviceId == Fleet.IdOf(stuck));
        var after = await EngineFleet.WaitForAsync(Fleet.Admin, sweep.Id);
        Assert.Equal(SweepStatus.Completed, after.Status);
    }

    [Fact]
    public async Task A_fix_that_took_before_a_crash_is_closed_by_the_shards_rerun()
    {
        var stuck = await Fleet.AddAsync("crash-took", Overdue);
        var sweep = await Fleet.SweepAsync(Fleet.Admin);
        Assert.Equal(1, Fleet.FixesSentTo(stuck));

        // As the worker's death left it: the fix sent and taken (the client is out of provisioning mode), the record
        // not yet closed, the shard not done. The re-run finds the client Healthy, so it never reaches the fix path.
        await using (var db = Api.CreateDbContext())
        {
            await db.Remediations.Where(r => r.SweepId == sweep.Id).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Outcome, RemediationOutcome.InProgress).SetProperty(r => r.Verified, false).SetProperty(r => r.FinishedAt, (DateTimeOffset?)null));
            await db.Sweeps.Where(s => s.Id == sweep.Id).ExecuteUpdateAsync(set => set.SetProperty(s => s.Status, SweepStatus.Running).SetProperty(s => s.ShardsCompleted, 0).SetProperty(s => s.ShardCount, 1));
            db.Set<SweepShard>().Add(new SweepShard { SweepId = sweep.Id, Index = 0, DeviceIds = [Fleet.IdOf(stuck)] });
            await db.SaveChangesAsync();
        }

        using (var scope = Api.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<SweepJobs>().RunShardAsync(sweep.Id, 0, null, CancellationToken.None);
        }

        Assert.Equal(1, Fleet.FixesSentTo(stuck));
        var record = Assert.Single(await Fleet.RemediationsOfAsync(sweep.Id));
        Assert.Equal(RemediationOutcome.Remediated, record.Outcome);
        var after = await EngineFleet.WaitForAsync(Fleet.Admin, sweep.Id);
        Assert.Equal((SweepStatus.Completed, 1), (after.Status, after.Remediated));
    }

    [Fact]
    public async Task A_sweep_started_while_another_runs_waits_then_runs()
    {
        for (var i = 0; i < 40; i++)
        {
            await Fleet.AddAsync($"slow-{i}", d => d.Latency = TimeSpan.FromMilliseconds(1000));
        }

        var first = await StartAsync();
        // One queued sweep per tag: the second is asked for once the first runs (each probe takes a second).
        Assert.Equal(SweepStatus.Running, (await EngineFleet.WaitUntilStartedAsync(Fleet.Admin, first)).Status);
        var second = await StartAsync();
        var queuedSeen = (await Fleet.Admin.GetFromJsonAsync<SweepView>($"/api/v1/sweeps/{second}", Json.Options))!.Status;

        var one = await EngineFleet.WaitForAsync(Fleet.Admin, first);
        var two = await EngineFleet.WaitForAsync(Fleet.Admin, second);

        Assert.Equal(SweepStatus.Queued, queuedSeen);
        Assert.Equal((SweepStatus.Completed, SweepStatus.Completed), (one.Status, two.Status));
        Assert.True(two.StartedAt >= one.FinishedAt, $"second started {two.StartedAt:o}, first finished {one.FinishedAt:o}");
        Assert.Equal((40, 40), (one.Probed, two.Probed));
        var list = await Fleet.Admin.GetFromJsonAsync<Lists.PagedList<SweepView>>("/api/v1/sweeps", Json.Options);
        Assert.Equal(second, list!.Items[0].Id);
    }

    [Fact]
    public async Task A_running_sweep_can_be_cancelled()
    {
        await Fleet.RegisterAsync(Enumerable.Range(0, 400).Select(i => new SimulatedDevice(Fleet.HostName($"cancel-{i}")) { Latency = TimeSpan.FromMilliseconds(400) }).ToList());
        var id = await StartAsync();
        await Eventually.MatchAsync(
            async () => (await Fleet.Admin.GetFromJsonAsync<SweepView>($"/api/v1/sweeps/{id}", Json.Options))!, sweep => sweep.Probed > 0,
            $"sweep {id} to probe its first device", interval: TimeSpan.FromMilliseconds(50));

        var cancel = await Fleet.Admin.PostAsync($"/api/v1/sweeps/{id}/cancel", null);
        var sweep = await EngineFleet.WaitForAsync(Fleet.Admin, id);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal(SweepStatus.Cancelled, sweep.Status);
        Assert.InRange(sweep.Probed, 1, 399);
        Assert.Equal(HttpStatusCode.Conflict, (await Fleet.Admin.PostAsync($"/api/v1/sweeps/{id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Sweep_requests_are_validated_and_need_an_Operator()
    {
        using var reader = await Api.CreateClientAsync(ApiKeyRole.Reader);

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/v1/sweeps", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Fleet.Admin.PostAsJsonAsync("/api/v1/sweeps", new { tag = new string('x', 65) })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Fleet.Admin.GetAsync("/api/v1/sweeps?status=Sleeping")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/api/v1/sweeps/987654321")).StatusCode);

        var none = await Fleet.Admin.PostAsJsonAsync("/api/v1/sweeps", new { tag = "no-device-has-this-tag" });
        var accepted = (await none.Content.ReadFromJsonAsync<SweepAccepted>(Json.Options))!;
        var empty = await EngineFleet.WaitForAsync(reader, accepted.Id);
        Assert.Equal((SweepStatus.Completed, 0), (empty.Status, empty.Total));
    }

    private async Task<long> StartAsync()
    {
        var response = await Fleet.Admin.PostAsJsonAsync("/api/v1/sweeps", new { tag = Fleet.Tag });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SweepAccepted>(Json.Options))!.Id;
    }
}
