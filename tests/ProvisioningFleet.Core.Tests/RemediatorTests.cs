using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Tests;

public class RemediatorTests
{
    private const string SetMode = "Invoke SMS_Client.SetClientProvisioningMode(bEnable=false)";
    private const string ReadMode = "Invoke StdRegProv.GetStringValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningMode)";
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly Remediator Remediator = new(TimeProvider.System,
        new RemediationOptions { VerifyAttempts = 4, VerifyInterval = TimeSpan.FromMilliseconds(5) });

    private static async Task<(FakeConfigMgrDevice Device, Verdict Verdict)> OverdueDeviceAsync()
    {
        var device = FakeConfigMgrDevice.InProvisioning(Now, Now.AddDays(-5));
        var probe = await new ProvisioningProbe(TimeProvider.System, new ProbeOptions()).ProbeAsync(device, CancellationToken.None);
        var verdict = Verdict.Decide(probe, VerdictPolicy.Default, null);
        Assert.Equal(DeviceState.Overdue, verdict.State);
        device.Log.Clear();
        return (device, verdict);
    }

    [Fact]
    public async Task An_overdue_client_is_fixed_verified_and_asked_for_policy()
    {
        var (device, verdict) = await OverdueDeviceAsync();

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.True(result.Verified);
        Assert.Null(result.Error);
        Assert.Equal(
        [
            "Invoke StdRegProv.GetStringValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningMode)",
            "Query root/ccm SELECT ClientId FROM CCM_Client",
            "Query root/cimv2 SELECT Name FROM Win32_Process WHERE Name = 'TSManager.exe' OR Name = 'SetupHost.exe'",
            "Query root/ccm/SoftMgmtAgent SELECT * FROM CCM_TSExecutionRequest",
            SetMode,
            "Invoke StdRegProv.GetStringValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=ProvisioningMode)",
            "Invoke StdRegProv.GetStringValue(hDefKey=2147483650,sSubKeyName=SOFTWARE\\Microsoft\\CCM\\CcmExec,sValueName=SystemTaskExcludes)",
            "Invoke SMS_Client.TriggerSchedule(sScheduleID={00000000-0000-0000-0000-000000000021})",
            "Invoke SMS_Client.TriggerSchedule(sScheduleID={00000000-0000-0000-0000-000000000022})",
        ], device.Log);
        Assert.All(result.ScheduleTriggers, t => Assert.True(t.Succeeded));
        Assert.Equal(device.Log.Count, result.RoundTrips);
        Assert.Equal("SchedulerStartup;SchedulerShutdown", verdict.SystemTaskExcludes);
        Assert.Equal("", result.SystemTaskExcludesAfter);
    }

    [Fact]
    public async Task Policy_retrieval_is_not_triggered_when_the_policy_says_no()
    {
        var (device, verdict) = await OverdueDeviceAsync();

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(TriggerPolicyRetrieval: false), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.Equal(0, device.CountOf("Invoke SMS_Client.TriggerSchedule"));
    }

    [Fact]
    public async Task A_fix_that_does_not_take_effect_is_Failed_after_the_re_reads()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.FixTakesEffect = false;

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.False(result.Verified);
        Assert.True(result.FixSent);
        Assert.Contains("still read 'true' after 4 re-read(s)", result.Error!.Message);
        Assert.Equal(1 + 4, device.CountOf(ReadMode));
        Assert.Equal("SchedulerStartup;SchedulerShutdown", result.SystemTaskExcludesAfter);
        Assert.Equal(0, device.CountOf("Invoke SMS_Client.TriggerSchedule"));
    }

    [Fact]
    public async Task A_failed_TriggerSchedule_is_recorded_and_does_not_fail_the_fix()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.TriggerScheduleReturnValue = CimValue.From(2147749889L);

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.Equal(2, result.ScheduleTriggers.Count);
        Assert.All(result.ScheduleTriggers, t => Assert.Equal(2147749889L, t.Error?.Code));
    }

    [Fact]
    public async Task A_fix_call_that_faults_without_effect_is_Failed_with_the_calls_error_after_the_same_verification()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.Failures[SetMode] = new CimException(CimErrorCategory.Fault, "Generic failure", 0x80041001);

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.False(result.Verified);
        Assert.True(result.FixSent);
        Assert.Equal(CimErrorCategory.Fault, result.Error!.Category);
        Assert.Equal(0x80041001, result.Error.Code);
        Assert.StartsWith("SetClientProvisioningMode(false) failed: Generic failure", result.Error.Message);
        Assert.Equal(1, device.CountOf(SetMode));
        Assert.Equal(1 + 4, device.CountOf(ReadMode));
    }

    public static TheoryData<CimException> LostAnswers() =>
    [
        new CimException(CimErrorCategory.Fault, "The WMI provider host stopped", 0x80041001),
        new CimException(CimErrorCategory.Network, "The connection was reset", null),
        new CimException(CimErrorCategory.Timeout, "No answer within 35 s", null),
        new CimException(CimErrorCategory.Protocol, "The reply ended early", null),
    ];

    [Theory]
    [MemberData(nameof(LostAnswers))]
    public async Task A_fix_that_took_effect_before_its_answer_was_lost_is_Remediated_and_verified_with_one_call(CimException lost)
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.AfterCall = entry =>
        {
            if (entry == SetMode)
            {
                throw lost;
            }
        };

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.True(result.Verified);
        Assert.Null(result.Error);
        Assert.Equal(1, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_fix_call_that_hangs_after_taking_effect_is_given_up_and_verified()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.HangsAfterEffect.Add(SetMode);
        var remediator = new Remediator(TimeProvider.System, new RemediationOptions
        {
            Timeout = TimeSpan.FromSeconds(10),
            FixCallTimeout = TimeSpan.FromMilliseconds(200),
            VerifyInterval = TimeSpan.FromMilliseconds(5),
        });

        var result = await remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.True(result.Verified);
        Assert.Equal(1, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_fix_call_that_hangs_without_effect_is_Failed_as_a_timeout_with_one_call()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.Hangs.Add(SetMode);
        var remediator = new Remediator(TimeProvider.System, new RemediationOptions
        {
            Timeout = TimeSpan.FromSeconds(10),
            FixCallTimeout = TimeSpan.FromMilliseconds(200),
            VerifyAttempts = 2,
            VerifyInterval = TimeSpan.FromMilliseconds(5),
        });

        var result = await remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.Equal(CimErrorCategory.Timeout, result.Error!.Category);
        Assert.Contains("did not answer within 0.2 s", result.Error.Message);
        Assert.Equal(1, device.CountOf(SetMode));
        Assert.Equal(1 + 2, device.CountOf(ReadMode));
    }

    [Fact]
    public async Task A_ProvisioningMode_value_missing_after_the_fix_is_no_proof()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.FixLeavesRegistry = "delete-value";

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.False(result.Verified);
        Assert.Contains("ProvisioningMode was missing after the fix", result.Error!.Message);
        Assert.Equal(0, device.CountOf("Invoke SMS_Client.TriggerSchedule"));
    }

    [Fact]
    public async Task A_CcmExec_key_that_vanished_after_the_fix_is_Failed_with_the_reason_at_once()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.FixLeavesRegistry = "delete-key";

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.Contains("CcmExec key", result.Error!.Message);
        Assert.Contains("vanished", result.Error.Message);
        Assert.Equal(1 + 1, device.CountOf(ReadMode));
        Assert.Null(result.SystemTaskExcludesAfter);
    }

    [Fact]
    public async Task A_dead_sequences_request_does_not_block_the_fix()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Running", "Failure"));

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.Equal(1, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_request_between_two_reboots_blocks_the_fix()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.TsExecutionRequestClassExists = true;
        device.TsRequests.Add(("Running", null));

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationSkipReason.TaskSequenceRunning, result.SkipReason);
        Assert.Equal(0, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_different_client_behind_the_name_is_never_touched()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.ClientId = "GUID:99999999-0000-0000-0000-000000000000";

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Skipped, result.Outcome);
        Assert.Equal(RemediationSkipReason.ClientChanged, result.SkipReason);
        Assert.Equal(0, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_task_sequence_started_since_the_verdict_blocks_the_fix()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.Processes.Add("TSManager.exe");

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationSkipReason.TaskSequenceRunning, result.SkipReason);
        Assert.Equal(0, device.CountOf(SetMode));
    }

    [Fact]
    public async Task IgnoreTaskSequence_fixes_despite_a_running_task_sequence()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.Processes.Add("TSManager.exe");

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(IgnoreTaskSequence: true), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
    }

    [Fact]
    public async Task A_client_that_left_the_mode_by_itself_is_skipped()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.InProvisioningMode = false;

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationSkipReason.NotOverdue, result.SkipReason);
        Assert.Equal(0, device.CountOf(SetMode));
    }

    [Fact]
    public async Task A_dry_run_reads_and_changes_nothing()
    {
        var (device, verdict) = await OverdueDeviceAsync();

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(DryRun: true), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.DryRun, result.Outcome);
        Assert.All(device.Log, e => Assert.DoesNotContain("SMS_Client", e));
    }

    [Fact]
    public async Task A_device_that_stops_answering_mid_fix_is_Failed_by_the_deadline()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.Hangs.Add(SetMode);
        var remediator = new Remediator(TimeProvider.System, new RemediationOptions { Timeout = TimeSpan.FromMilliseconds(200) });

        var result = await remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Failed, result.Outcome);
        Assert.Equal(CimErrorCategory.Timeout, result.Error?.Category);
        Assert.True(result.FixSent);
    }

    [Fact]
    public async Task Verification_survives_a_dropped_re_read()
    {
        var (device, verdict) = await OverdueDeviceAsync();
        device.AfterCall = entry =>
        {
            if (entry == SetMode)
            {
                device.FailOnce("Invoke StdRegProv.GetStringValue", new CimException(CimErrorCategory.Network, "connection reset", null));
            }
        };

        var result = await Remediator.RemediateAsync(device, verdict, new RemediationRequest(), new RemediationPolicy(), CancellationToken.None);

        Assert.Equal(RemediationOutcome.Remediated, result.Outcome);
        Assert.Equal(3, device.CountOf(ReadMode));
    }
}
