using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

[Collection(PostgresCollection.Name)]
public sealed class RemediateEndpointTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    private static void Overdue(SimulatedDevice d) => d.EnterProvisioningMode(TimeSpan.FromDays(3));

    private async Task<(HttpStatusCode Status, RemediationView? View)> RemediateAsync(SimulatedDevice device, object? body = null, ApiKeyRole role = ApiKeyRole.Operator)
    {
        using var client = await Api.CreateClientAsync(role);
        var response = await client.PostAsJsonAsync($"/api/v1/devices/{Fleet.IdOf(device)}/remediate", body ?? new { });
        return (response.StatusCode, response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<RemediationView>(Json.Options) : null);
    }

    [Fact]
    public async Task An_overdue_client_is_fixed_verified_and_asked_for_policy()
    {
        var device = await Fleet.AddAsync("stuck", Overdue);

        var (status, view) = await RemediateAsync(device, new { justification = "INC-1234" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(RemediationOutcome.Remediated, view!.Outcome);
        Assert.True(view.Verified);
        Assert.Equal(RemediationTrigger.Manual, view.Trigger);
        Assert.Equal("INC-1234", view.Justification);
        Assert.NotNull(view.FinishedAt);
        Assert.False(device.InProvisioningMode);
        var calls = Fleet.Simulator.Fleet.Invocations(device.HostName).Where(i => i.ClassName == "SMS_Client").ToList();
        Assert.Equal(["SetClientProvisioningMode", "TriggerSchedule", "TriggerSchedule"], calls.Select(c => c.Method));
        Assert.Equal("false", calls[0].Parameters["bEnable"], ignoreCase: true);
        Assert.Equal(["{00000000-0000-0000-0000-000000000021}", "{00000000-0000-0000-0000-000000000022}"], calls.Skip(1).Select(c => c.Parameters["sScheduleID"]));

        var deviceView = await Fleet.Admin.GetFromJsonAsync<DeviceView>($"/api/v1/devices/{Fleet.IdOf(device)}", Json.Options);
        Assert.Equal(DeviceState.Healthy, deviceView!.State);
        Assert.Equal(view.Id, deviceView.LastRemediation?.Id);
        Assert.Equal(RemediationOutcome.Remediated, deviceView.LastRemediation?.Outcome);
    }

    [Fact]
    public async Task A_fix_that_does_not_take_effect_is_Failed()
    {
        var device = await Fleet.AddAsync("stubborn", d => { Overdue(d); d.FixTakesEffect = false; });

        var (_, view) = await RemediateAsync(device);

        Assert.Equal(RemediationOutcome.Failed, view!.Outcome);
        Assert.False(view.Verified);
        Assert.Contains("ProvisioningMode still read 'true'", view.Error!.Message);
        Assert.True(device.InProvisioningMode);
        Assert.DoesNotContain(Fleet.Simulator.Fleet.Invocations(device.HostName), i => i.Method == "TriggerSchedule");
    }

    [Fact]
    public async Task Devices_that_are_not_overdue_are_skipped_with_the_reason_and_never_touched()
    {
        var inside = await Fleet.AddAsync("inside", d => d.EnterProvisioningMode(TimeSpan.FromHours(1)));
        var busy = await Fleet.AddAsync("busy", d => { Overdue(d); d.RunningProcesses = ["TSManager.exe"]; });
        var excluded = await Fleet.AddAsync("excluded", Overdue, excluded: true);
        var healthy = await Fleet.AddAsync("fine");

        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.NotOverdue), Outcome(await RemediateAsync(inside)));
        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.TaskSequenceRunning), Outcome(await RemediateAsync(busy)));
        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.Excluded), Outcome(await RemediateAsync(excluded, new { @override = true, ignoreTaskSequence = true }, ApiKeyRole.Admin)));
        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.NotOverdue), Outcome(await RemediateAsync(healthy)));

        foreach (var device in new[] { inside, busy, excluded, healthy })
        {
            Assert.Equal(0, Fleet.FixesSentTo(device));
        }

        static (RemediationOutcome, RemediationSkipReason?) Outcome((HttpStatusCode, RemediationView?) result) => (result.Item2!.Outcome, result.Item2.SkipReason);
    }

    [Fact]
    public async Task Overrides_are_for_Admins_and_audited()
    {
        var early = await Fleet.AddAsync("early", d => d.EnterProvisioningMode(TimeSpan.FromHours(1)));
        var busy = await Fleet.AddAsync("busy-admin", d => { Overdue(d); d.RunningProcesses = ["TSManager.exe"]; });

        Assert.Equal(HttpStatusCode.Forbidden, (await RemediateAsync(early, new { @override = true })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await RemediateAsync(busy, new { ignoreTaskSequence = true })).Status);
        Assert.Equal(0, Fleet.FixesSentTo(early) + Fleet.FixesSentTo(busy));

        // Override alone never touches a running task sequence; ignoreTaskSequence does.
        Assert.Equal(RemediationSkipReason.TaskSequenceRunning, (await RemediateAsync(busy, new { @override = true }, ApiKeyRole.Admin)).View!.SkipReason);
        Assert.Equal(RemediationOutcome.Remediated, (await RemediateAsync(early, new { @override = true, justification = "pilot" }, ApiKeyRole.Admin)).View!.Outcome);
        Assert.Equal(RemediationOutcome.Remediated, (await RemediateAsync(busy, new { ignoreTaskSequence = true }, ApiKeyRole.Admin)).View!.Outcome);

        await using var db = Api.CreateDbContext();
        var audit = await db.AuditEntries.AsNoTracking().Where(a => a.Action == "device.remediate.override").ToListAsync();
        Assert.Contains(audit, a => a.Target == $"device/{Fleet.IdOf(early)}" && a.Details!.Contains("pilot"));
        Assert.Contains(audit, a => a.Target == $"device/{Fleet.IdOf(busy)}");
    }

    [Fact]
    public async Task A_dry_run_changes_nothing_on_the_device()
    {
        var device = await Fleet.AddAsync("dry", Overdue);

        var (_, view) = await RemediateAsync(device, new { dryRun = true });

        Assert.Equal(RemediationOutcome.DryRun, view!.Outcome);
        Assert.True(device.InProvisioningMode);
        Assert.DoesNotContain(Fleet.Simulator.Fleet.Invocations(device.HostName), i => i.ClassName == "SMS_Client");
    }

    [Fact]
    public async Task A_remediation_under_way_answers_409_and_the_database_allows_only_one()
    {
        var device = await Fleet.AddAsync("locked", Overdue);
        var id = Fleet.IdOf(device);
        await using (var db = Api.CreateDbContext())
        {
            db.Remediations.Add(new Remediation
            {
                DeviceId = id,
                HostName = device.HostName,
                Trigger = RemediationTrigger.Manual,
                Actor = "other instance",
                RequestedAt = DateTimeOffset.UtcNow,
                Outcome = RemediationOutcome.InProgress,
            });
            await db.SaveChangesAsync();
        }

        Assert.Equal(HttpStatusCode.Conflict, (await RemediateAsync(device)).Status);
        Assert.Equal(0, Fleet.FixesSentTo(device));
        await using (var db = Api.CreateDbContext())
        {
            db.Remediations.Add(new Remediation
            {
                DeviceId = id,
                HostName = device.HostName,
                Trigger = RemediationTrigger.Manual,
                Actor = "a racer",
                RequestedAt = DateTimeOffset.UtcNow,
                Outcome = RemediationOutcome.InProgress,
            });
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
    }

    [Fact]
    public async Task Concurrent_requests_for_one_device_fix_it_once()
    {
        var device = await Fleet.AddAsync("race", d => { Overdue(d); d.Latency = TimeSpan.FromMilliseconds(50); });

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => RemediateAsync(device)));

        Assert.Equal(1, Fleet.FixesSentTo(device));
        Assert.Single(results, r => r.View?.Outcome == RemediationOutcome.Remediated);
        Assert.All(results.Where(r => r.View?.Outcome != RemediationOutcome.Remediated),
            r => Assert.True(r.Status == HttpStatusCode.Conflict || r.View?.SkipReason == RemediationSkipReason.NotOverdue, $"{r.Status} {r.View?.Outcome} {r.View?.SkipReason}"));
    }

    [Fact]
    public async Task The_trail_lists_and_filters_remediations()
    {
        var device = await Fleet.AddAsync("trail", Overdue);
        await RemediateAsync(device, new { dryRun = true });
        await RemediateAsync(device);

        var all = await Fleet.Admin.GetFromJsonAsync<Lists.PagedList<RemediationView>>($"/api/v1/remediations?deviceId={Fleet.IdOf(device)}", Json.Options);
        var fixes = await Fleet.Admin.GetFromJsonAsync<Lists.PagedList<RemediationView>>($"/api/v1/remediations?deviceId={Fleet.IdOf(device)}&outcome=Remediated", Json.Options);
        var bad = await Fleet.Admin.GetAsync("/api/v1/remediations?outcome=Sometimes&deviceId=x");

        Assert.Equal([RemediationOutcome.Remediated, RemediationOutcome.DryRun], all!.Items.Select(r => r.Outcome));
        Assert.Single(fixes!.Items);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("outcome", problem);
        Assert.Contains("deviceId", problem);
    }
}
