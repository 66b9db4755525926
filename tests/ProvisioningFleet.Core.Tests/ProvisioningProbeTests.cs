using Microsoft.Extensions.Time.Testing;
using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Testing;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Tests;

public class ProvisioningProbeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);

    private ProvisioningProbe Probe(TimeSpan? timeout = null) => new(_time, new ProbeOptions { Timeout = timeout ?? TimeSpan.FromSeconds(30) });

    [Theory]
    [InlineData("false")]
    [InlineData("False")]
    [InlineData(" FALSE ")]
    public async Task A_healthy_client_is_settled_in_one_round_trip(string mode)
    {
        var device = new FakeConfigMgrDevice();
        device.Values["ProvisioningMode"] = (1, mode);

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);
        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Healthy, verdict.State);
        Assert.False(verdict.InProvisioningMode);
        Assert.Equal(1, probe.RoundTrips);
        Assert.Equal(["Invoke StdRegProv.GetStringValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningMode)"], device.Log);
    }

    [Fact]
    public async Task A_missing_ProvisioningMode_value_is_healthy_in_one_round_trip()
    {
        var device = new FakeConfigMgrDevice();

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);

        Assert.Equal(DeviceState.Healthy, Verdict.Decide(probe, VerdictPolicy.Default, null).State);
        Assert.Equal(1, probe.RoundTrips);
    }

    [Fact]
    public async Task A_missing_CcmExec_key_is_NoClient()
    {
        var device = new FakeConfigMgrDevice { KeyExists = false, CcmNamespaceExists = false };

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);

        Assert.Equal(DeviceState.NoClient, Verdict.Decide(probe, VerdictPolicy.Default, null).State);
        Assert.Null(probe.Error);
    }

    [Fact]
    public async Task A_missing_root_ccm_is_NoClient_even_with_the_mode_on()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.CcmNamespaceExists = false;

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.NoClient, verdict.State);
        Assert.Equal(0, device.CountOf("Invoke StdRegProv.EnumValues"));
    }

    [Theory]
    [InlineData(1u, "GetStringValue")]
    [InlineData(11u, "GetQWORDValue")]
    public async Task The_enabled_time_is_read_with_the_getter_of_its_type(uint type, string getter)
    {
        var enabledAt = Now.AddHours(-50);
        var device = FakeConfigMgrDevice.InProvisioning(Now, enabledAt, type, maxMinutes: 0);

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);
        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);

        Assert.Null(probe.Error);
        Assert.Equal(1, device.CountOf($"Invoke StdRegProv.{getter}(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningEnabledTime)"));
        Assert.Equal(1, device.CountOf("Invoke StdRegProv.GetDWORDValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningMaxMinutes)"));
        Assert.Equal(enabledAt, verdict.ProvisioningEnabledAt);
        Assert.Equal(0, verdict.ProvisioningMaxMinutes);
        Assert.Equal(2880 + 60, verdict.EffectiveTimeoutMinutes);
        Assert.Equal(enabledAt.AddMinutes(2940), verdict.OverdueAt);
        Assert.Equal(DeviceState.Overdue, verdict.State);
        Assert.Equal("SchedulerStartup;SchedulerShutdown", probe.SystemTaskExcludes);
        Assert.Equal("GUID:11111111-2222-3333-4444-555555555555", verdict.ClientId);
        Assert.False(verdict.TaskSequenceRunning);
        Assert.Equal(0, verdict.ClockSkewSeconds);
    }

    [Fact]
    public async Task Inside_the_client_window_plus_grace_the_device_is_Provisioning()
    {
        // 120 minutes of the client's own timeout + 60 grace: at 170 minutes it is still inside.
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddMinutes(-170), maxMinutes: 120);

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Provisioning, verdict.State);
        Assert.Equal(180, verdict.EffectiveTimeoutMinutes);
        Assert.False(verdict.PastTimeoutWindow);
    }

    [Fact]
    public async Task RemediateAfterMinutes_replaces_the_client_window_as_is()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddMinutes(-31), maxMinutes: 120);

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), new VerdictPolicy(30, 60), null);

        Assert.Equal(DeviceState.Overdue, verdict.State);
        Assert.Equal(30, verdict.EffectiveTimeoutMinutes);
    }

    [Fact]
    public async Task A_clock_three_days_behind_does_not_make_a_device_overdue()
    {
        // The client wrote its timestamp an hour ago by its own clock, which runs three days behind the service.
        var deviceNow = Now.AddDays(-3);
        var device = FakeConfigMgrDevice.InProvisioning(deviceNow, deviceNow.AddHours(-1));

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Provisioning, verdict.State);
        Assert.Equal(-3 * 86400, verdict.ClockSkewSeconds);
        Assert.Equal(Now.AddHours(-1).AddMinutes(2940), verdict.OverdueAt);
    }

    [Fact]
    public async Task A_clock_ahead_does_not_hide_an_overdue_device()
    {
        var deviceNow = Now.AddDays(2);
        var device = FakeConfigMgrDevice.InProvisioning(deviceNow, deviceNow.AddHours(-50));

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Overdue, verdict.State);
        Assert.Equal(Now.AddHours(-50).AddMinutes(2940), verdict.OverdueAt);
    }

    [Fact]
    public async Task Without_a_readable_timestamp_the_window_starts_when_the_service_first_saw_the_mode()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now);
        device.Values["ProvisioningEnabledTime"] = (1, "not a number");

        var first = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);
        _time.Advance(TimeSpan.FromMinutes(2941));
        var later = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, first.ProvisioningFirstSeenAt);

        Assert.Equal(DeviceState.Provisioning, first.State);
        Assert.Equal(Now, first.ProvisioningFirstSeenAt);
        Assert.Null(first.ProvisioningEnabledAt);
        Assert.Equal(DeviceState.Overdue, later.State);
        Assert.Equal(Now, later.ProvisioningFirstSeenAt);
        Assert.Equal(Now.AddMinutes(2940), later.OverdueAt);
    }

    [Fact]
    public async Task Leaving_provisioning_mode_forgets_when_it_was_first_seen()
    {
        var device = new FakeConfigMgrDevice { InProvisioningMode = false };

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, Now.AddDays(-1));

        Assert.Null(verdict.ProvisioningFirstSeenAt);
    }

    [Theory]
    [InlineData("TSManager.exe")]
    [InlineData("SetupHost.exe")]
    public async Task A_running_task_sequence_protects_an_overdue_device(string process)
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.Processes.Add(process);

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.TaskSequenceRunning, verdict.State);
        Assert.True(verdict.PastTimeoutWindow);
    }

    [Fact]
    public async Task A_running_TS_execution_request_is_a_task_sequence_signal()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.AddRange([("Completed", "Success"), ("Running", null)]);

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);

        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);
        Assert.Equal(DeviceState.TaskSequenceRunning, verdict.State);
        var signal = Assert.Single(probe.TaskSequenceSignals!);
        Assert.True(signal.Holds);
        Assert.Equal("CCM_TSExecutionRequest {REQ-1} is Running without a completion state (a live sequence, or one between two reboots)", signal.Description);
        Assert.Equal([signal.Description], verdict.TaskSequenceSignals);
    }

    [Fact]
    public async Task A_running_request_that_completed_with_Failure_and_no_TSManager_is_a_dead_sequence_and_the_device_is_Overdue()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Running", "Failure"));

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);
        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Overdue, verdict.State);
        Assert.False(verdict.TaskSequenceRunning);
        Assert.False(Assert.Single(probe.TaskSequenceSignals!).Holds);
        Assert.Contains("CompletionState Failure: left by a dead sequence, not a signal", Assert.Single(verdict.TaskSequenceSignals!));
    }

    [Fact]
    public async Task A_dead_request_does_not_hide_a_running_TSManager()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Running", "Failure"));
        device.Processes.Add("TSManager.exe");

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.TaskSequenceRunning, verdict.State);
        Assert.Equal(2, verdict.TaskSequenceSignals!.Count);
        Assert.Equal("TSManager.exe is running", verdict.TaskSequenceSignals[0]);
    }

    [Theory]
    [InlineData("Success")]
    [InlineData("Unknown")]
    public async Task A_running_request_with_any_other_completion_state_still_holds(string completion)
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Running", completion));

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.TaskSequenceRunning, verdict.State);
    }

    [Fact]
    public async Task Every_query_says_how_many_instances_it_can_use()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;

        await Probe().ProbeAsync(device, CancellationToken.None);

        Assert.Equal(1, device.MaxItemsAsked["SELECT ClientId FROM CCM_Client"]);
        Assert.Equal(1, device.MaxItemsAsked["SELECT * FROM Win32_UTCTime"]);
        Assert.InRange(device.MaxItemsAsked["SELECT * FROM CCM_TSExecutionRequest"], 2, 1000);
    }

    [Fact]
    public async Task As_many_execution_requests_as_the_query_can_use_hold_the_device_whatever_they_say()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.AddRange(Enumerable.Repeat<(string, string?)>(("Running", "Failure"), 5000));

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.TaskSequenceRunning, verdict.State);
        Assert.Contains(verdict.TaskSequenceSignals!, s => s.Contains("not all were read"));
    }

    [Fact]
    public async Task The_verdict_keeps_SystemTaskExcludes_as_read()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal("SchedulerStartup;SchedulerShutdown", verdict.SystemTaskExcludes);
    }

    [Fact]
    public async Task Completed_TS_execution_requests_are_no_signal()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Completed", "Success"));

        Assert.Equal(DeviceState.Overdue, Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null).State);
    }

    [Fact]
    public async Task A_failed_task_sequence_check_is_an_error_never_a_candidate()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.Failures["Query root/cimv2 SELECT Name FROM Win32_Process"] = new CimException(CimErrorCategory.Fault, "Quota violation", 0x8004106C);

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.Error, verdict.State);
        Assert.Equal(new ProbeError(CimErrorCategory.Fault, "Quota violation", 0x8004106C), verdict.Error);
        Assert.True(verdict.InProvisioningMode);
    }

    [Fact]
    public async Task The_clock_falls_back_to_Win32_OperatingSystem()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now.AddMinutes(10), Now.AddDays(-5));
        device.Failures["Query root/cimv2 SELECT * FROM Win32_UTCTime"] = new CimException(CimErrorCategory.NotFound, "Invalid class", 0x80041010);

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(600, verdict.ClockSkewSeconds);
        Assert.Equal(1, device.CountOf("Query root/cimv2 SELECT LocalDateTime FROM Win32_OperatingSystem"));
    }

    [Fact]
    public async Task An_unreadable_clock_counts_by_the_service_clock()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.Clock = null;

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Null(verdict.ClockSkewSeconds);
        Assert.Equal(DeviceState.Overdue, verdict.State);
    }

    [Theory]
    [InlineData(CimErrorCategory.Network, DeviceState.Unreachable)]
    [InlineData(CimErrorCategory.Timeout, DeviceState.Unreachable)]
    [InlineData(CimErrorCategory.AccessDenied, DeviceState.AccessDenied)]
    [InlineData(CimErrorCategory.Tls, DeviceState.Error)]
    [InlineData(CimErrorCategory.Protocol, DeviceState.Error)]
    [InlineData(CimErrorCategory.Fault, DeviceState.Error)]
    [InlineData(CimErrorCategory.Configuration, DeviceState.Error)]
    public async Task Failures_become_states_by_category(CimErrorCategory category, DeviceState expected)
    {
        var device = new FakeConfigMgrDevice();
        device.Failures["Invoke StdRegProv.GetStringValue"] = new CimException(category, "refused", 42);

        var probe = await Probe().ProbeAsync(device, CancellationToken.None);
        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);

        Assert.Equal(expected, verdict.State);
        Assert.Equal(new ProbeError(category, "refused", 42), verdict.Error);
    }

    [Fact]
    public async Task Registry_access_denied_is_AccessDenied()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.AfterCall = entry =>
        {
            if (entry.Contains("sValueName=ProvisioningMode"))
            {
                device.Failures["Invoke StdRegProv.EnumValues"] = new CimException(CimErrorCategory.AccessDenied, "denied", 5);
            }
        };

        var verdict = Verdict.Decide(await Probe().ProbeAsync(device, CancellationToken.None), VerdictPolicy.Default, null);

        Assert.Equal(DeviceState.AccessDenied, verdict.State);
    }

    [Fact]
    public async Task A_device_that_does_not_answer_is_Unreachable_at_the_deadline()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        device.Hangs.Add("Query root/cimv2 SELECT Name FROM Win32_Process");

        var probing = Probe(TimeSpan.FromSeconds(30)).ProbeAsync(device, CancellationToken.None);
        await Eventually.TrueAsync(() => device.CountOf("Query root/cimv2 SELECT Name") > 0, "the probe to reach the hanging query", interval: TimeSpan.FromMilliseconds(1));

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(probing.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var probe = await probing;

        Assert.Equal(CimErrorCategory.Timeout, probe.Error?.Category);
        Assert.Equal(DeviceState.Unreachable, Verdict.Decide(probe, VerdictPolicy.Default, null).State);
        Assert.Equal("GUID:11111111-2222-3333-4444-555555555555", probe.ClientId);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_a_device_timeout()
    {
        var device = new FakeConfigMgrDevice();
        device.Hangs.Add("Invoke");
        using var cancel = new CancellationTokenSource();

        var probing = Probe().ProbeAsync(device, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probing);
    }

    [Theory]
    [InlineData("1732500000", 1732500000L)]
    [InlineData(" 1732500000 ", 1732500000L)]
    [InlineData("0", null)]
    [InlineData("-5", null)]
    [InlineData("99999999999999", null)]
    [InlineData("", null)]
    [InlineData("2026-11-25", null)]
    public void Enabled_time_is_epoch_seconds_within_reason(string raw, long? expected) =>
        Assert.Equal(expected is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : null, ProvisioningProbe.ParseEnabledTime(raw));
}
