using System.Net;
using System.Net.Http.Json;
using ProvisioningFleet.Api.Devices;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Api.Tests.Engine;

/// <summary>
/// The cases a real fleet produces and the engine once misjudged (issue 12), each end to end through the
/// API against the simulator over real WS-Man: probe, remediate and sweep.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConfigMgrCasesTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    private static void Overdue(SimulatedDevice d) => d.EnterProvisioningMode(TimeSpan.FromDays(3));

    private static void DeadSequence(SimulatedDevice d)
    {
        Overdue(d);
        d.TaskSequences = [SimulatedTaskSequence.Dead()];
    }

    private static void BetweenReboots(SimulatedDevice d)
    {
        // Seemingly overdue by its timestamp: the execution request alone must hold it.
        Overdue(d);
        d.TaskSequences = [SimulatedTaskSequence.RunningUpgrade()];
    }

    private async Task<DeviceView> ProbeAsync(SimulatedDevice device)
    {
        using var client = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var response = await client.PostAsync($"/api/v1/devices/{Fleet.IdOf(device)}/probe", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DeviceView>(Json.Options))!;
    }

    private async Task<RemediationView> RemediateAsync(SimulatedDevice device)
    {
        using var client = await Api.CreateClientAsync(ApiKeyRole.Operator);
        var response = await client.PostAsJsonAsync($"/api/v1/devices/{Fleet.IdOf(device)}/remediate", new { });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<RemediationView>(Json.Options))!;
    }

    private async Task<StateChangeView[]> HistoryAsync(SimulatedDevice device) =>
        [.. (await Fleet.Admin.GetFromJsonAsync<PagedList<StateChangeView>>($"/api/v1/devices/{Fleet.IdOf(device)}/history", Json.Options))!.Items];

    [Fact]
    public async Task A_dead_sequence_is_overdue_with_the_signal_that_decided_and_a_sequence_between_reboots_is_held()
    {
        var dead = await Fleet.AddAsync("dead-ts", d => { DeadSequence(d); d.ProvisioningMaxMinutes = null; });
        var rebooting = await Fleet.AddAsync("reboot-ts", BetweenReboots);

        var deadView = await ProbeAsync(dead);
        var rebootingView = await ProbeAsync(rebooting);

        Assert.Equal(DeviceState.Overdue, deadView.State);
        Assert.False(deadView.TaskSequenceRunning);
        Assert.Contains("CompletionState Failure: left by a dead sequence, not a signal", Assert.Single(deadView.TaskSequenceSignals!));
        Assert.Equal(DeviceState.TaskSequenceRunning, rebootingView.State);
        Assert.True(rebootingView.TaskSequenceRunning);
        Assert.Contains("without a completion state (a live sequence, or one between two reboots)", Assert.Single(rebootingView.TaskSequenceSignals!));

        Assert.Equal(deadView.TaskSequenceSignals, Assert.Single(await HistoryAsync(dead)).TaskSequenceSignals);
        Assert.Equal(rebootingView.TaskSequenceSignals, Assert.Single(await HistoryAsync(rebooting)).TaskSequenceSignals);
    }

    [Fact]
    public async Task A_sweep_fixes_the_dead_sequence_exactly_once_and_never_touches_the_sequence_between_reboots()
    {
        var dead = await Fleet.AddAsync("sweep-dead", DeadSequence);
        var rebooting = await Fleet.AddAsync("sweep-reboot", BetweenReboots);

        var first = await Fleet.SweepAsync(Fleet.Admin);
        var second = await Fleet.SweepAsync(Fleet.Admin);

        Assert.Equal(1, first.Remediated);
        Assert.Equal(0, second.Remediated);
        Assert.Equal(1, first.ByState[nameof(DeviceState.TaskSequenceRunning)]);
        Assert.Equal(1, second.ByState[nameof(DeviceState.TaskSequenceRunning)]);
        Assert.Equal(1, Fleet.FixesSentTo(dead));
        Assert.False(dead.InProvisioningMode);
        Assert.Equal(0, Fleet.FixesSentTo(rebooting));
        Assert.True(rebooting.InProvisioningMode);
        var fix = Assert.Single(await Fleet.RemediationsOfAsync(first.Id), r => r.Outcome == RemediationOutcome.Remediated);
        Assert.Equal(Fleet.IdOf(dead), fix.DeviceId);
        Assert.True(fix.Verified);

        // By hand too, nothing but ignoreTaskSequence (Admin) touches it.
        var manual = await RemediateAsync(rebooting);
        Assert.Equal((RemediationOutcome.Skipped, RemediationSkipReason.TaskSequenceRunning), (manual.Outcome, manual.SkipReason));
        Assert.Equal(0, Fleet.FixesSentTo(rebooting));
    }

    [Theory]
    [InlineData(FixCallAnswer.Fault)]
    [InlineData(FixCallAnswer.DropConnection)]
    public async Task A_fix_call_that_loses_its_answer_after_taking_effect_is_Remediated_and_verified_with_one_call(FixCallAnswer answer)
    {
        var device = await Fleet.AddAsync($"lost-{answer}".ToLowerInvariant(), d => { Overdue(d); d.FixCallAnswer = answer; });

        var view = await RemediateAsync(device);

        Assert.Equal(RemediationOutcome.Remediated, view.Outcome);
        Assert.True(view.Verified);
        Assert.Null(view.Error);
        Assert.Equal(1, Fleet.FixesSentTo(device));
        Assert.False(device.InProvisioningMode);
        var deviceView = await Fleet.Admin.GetFromJsonAsync<DeviceView>($"/api/v1/devices/{Fleet.IdOf(device)}", Json.Options);
        Assert.Equal(DeviceState.Healthy, deviceView!.State);
    }

    [Theory]
    [InlineData(FixCallAnswer.Fault, CimErrorCategory.Fault)]
    [InlineData(FixCallAnswer.DropConnection, CimErrorCategory.Network)]
    public async Task A_fix_call_that_loses_its_answer_without_effect_is_Failed_with_the_calls_error_and_one_call(FixCallAnswer answer, CimErrorCategory category)
    {
        var device = await Fleet.AddAsync($"lost-noeffect-{answer}".ToLowerInvariant(), d => { Overdue(d); d.FixCallAnswer = answer; d.FixTakesEffect = false; });

        var view = await RemediateAsync(device);

        Assert.Equal(RemediationOutcome.Failed, view.Outcome);
        Assert.False(view.Verified);
        Assert.Equal(category, view.Error!.Category);
        Assert.StartsWith("SetClientProvisioningMode(false) failed:", view.Error.Message);
        Assert.Contains("ProvisioningMode still read 'true'", view.Error.Message);
        if (answer == FixCallAnswer.Fault)
        {
            // The precise WMI error came back because the request asked for it: RPC_S_SERVER_UNAVAILABLE.
            Assert.Equal(0x800706BAL, view.Error.Code);
        }

        Assert.Equal(1, Fleet.FixesSentTo(device));
        Assert.DoesNotContain(Fleet.Simulator.Fleet.Invocations(device.HostName), i => i.Method == "TriggerSchedule");
    }

    [Fact]
    public async Task A_sweep_counts_fixes_whose_answers_were_lost_as_Remediated_with_one_call_each()
    {
        var faulted = await Fleet.AddAsync("sweep-faulted", d => { Overdue(d); d.FixCallAnswer = FixCallAnswer.Fault; });
        var dropped = await Fleet.AddAsync("sweep-dropped", d => { Overdue(d); d.FixCallAnswer = FixCallAnswer.DropConnection; });
        var stubborn = await Fleet.AddAsync("sweep-stubborn", d => { Overdue(d); d.FixCallAnswer = FixCallAnswer.DropConnection; d.FixTakesEffect = false; });

        var sweep = await Fleet.SweepAsync(Fleet.Admin);

        Assert.Equal(2, sweep.Remediated);
        Assert.Equal(1, sweep.RemediationsFailed);
        Assert.All(new[] { faulted, dropped, stubborn }, d => Assert.Equal(1, Fleet.FixesSentTo(d)));
        var records = await Fleet.RemediationsOfAsync(sweep.Id);
        Assert.Equal(RemediationOutcome.Failed, Assert.Single(records, r => r.DeviceId == Fleet.IdOf(stubborn)).Outcome);
    }

    [Fact]
    public async Task Missing_clients_are_NoClient_not_Error()
    {
        var none = await Fleet.AddAsync("no-client", d => d.ClientInstalled = false);
        var keyless = await Fleet.AddAsync("keyless", d => d.CcmExecKeyPresent = false);

        var noneView = await ProbeAsync(none);
        var keylessView = await ProbeAsync(keyless);

        Assert.Equal(DeviceState.NoClient, noneView.State);
        Assert.Null(noneView.LastError);
        Assert.Equal(DeviceState.NoClient, keylessView.State);
        Assert.Equal(keyless.ClientId, keylessView.ClientId);
        var sweep = await Fleet.SweepAsync(Fleet.Admin);
        Assert.Equal(2, sweep.ByState[nameof(DeviceState.NoClient)]);
        Assert.Equal(0, sweep.ByState[nameof(DeviceState.Error)]);
    }

    [Fact]
    public async Task A_fix_is_proven_by_ProvisioningMode_false_and_records_SystemTaskExcludes_before_and_after()
    {
        var device = await Fleet.AddAsync("proven", Overdue);
        var excludesBefore = device.SystemTaskExcludes;

        var view = await RemediateAsync(device);

        Assert.Equal(RemediationOutcome.Remediated, view.Outcome);
        Assert.Equal("SchedulerStartup;SchedulerShutdown;ClientRegistrationStartup;ClientRegistrationShutdown", excludesBefore);
        Assert.Equal(excludesBefore, view.SystemTaskExcludesBefore);
        Assert.Equal("", view.SystemTaskExcludesAfter);
        var listed = await Fleet.Admin.GetFromJsonAsync<PagedList<RemediationView>>($"/api/v1/remediations?deviceId={Fleet.IdOf(device)}", Json.Options);
        Assert.Equal((excludesBefore, ""), (listed!.Items.Single().SystemTaskExcludesBefore, listed.Items.Single().SystemTaskExcludesAfter));
        var deviceView = await Fleet.Admin.GetFromJsonAsync<DeviceView>($"/api/v1/devices/{Fleet.IdOf(device)}", Json.Options);
        Assert.Equal(excludesBefore, deviceView!.LastRemediation!.SystemTaskExcludesBefore);
    }

    [Theory]
    [InlineData(RegistryAfterFix.ValueDeleted, "ProvisioningMode was missing after the fix")]
    [InlineData(RegistryAfterFix.KeyDeleted, "vanished after the fix")]
    public async Task A_fix_that_leaves_no_ProvisioningMode_to_read_is_Failed_with_the_reason(RegistryAfterFix after, string reason)
    {
        var device = await Fleet.AddAsync($"thin-{after}".ToLowerInvariant(), d => { Overdue(d); d.RegistryAfterFix = after; });

        var view = await RemediateAsync(device);

        Assert.Equal(RemediationOutcome.Failed, view.Outcome);
        Assert.False(view.Verified);
        Assert.Contains(reason, view.Error!.Message);
        Assert.Equal(1, Fleet.FixesSentTo(device));
        Assert.DoesNotContain(Fleet.Simulator.Fleet.Invocations(device.HostName), i => i.Method == "TriggerSchedule");
    }
}
