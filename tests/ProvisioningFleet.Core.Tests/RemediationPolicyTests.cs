using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Core.Tests;

public class RemediationPolicyTests
{
    private static Verdict VerdictOf(DeviceState state, bool pastWindow = false) =>
        new() { State = state, CheckedAt = DateTimeOffset.UnixEpoch, PastTimeoutWindow = pastWindow };

    [Theory]
    [InlineData(DeviceState.Overdue, false, false, false, null)]
    [InlineData(DeviceState.Overdue, true, false, false, RemediationSkipReason.Excluded)]
    [InlineData(DeviceState.Overdue, true, true, true, RemediationSkipReason.Excluded)]
    [InlineData(DeviceState.Provisioning, false, false, false, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.Provisioning, false, true, false, null)]
    [InlineData(DeviceState.Provisioning, false, false, true, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.Healthy, false, true, true, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.Unreachable, false, true, true, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.NoClient, false, true, true, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.Error, false, true, true, RemediationSkipReason.NotOverdue)]
    [InlineData(DeviceState.TaskSequenceRunning, false, false, false, RemediationSkipReason.TaskSequenceRunning)]
    [InlineData(DeviceState.TaskSequenceRunning, false, true, false, RemediationSkipReason.TaskSequenceRunning)]
    public void Safety_rules(DeviceState state, bool excluded, bool @override, bool ignoreTs, RemediationSkipReason? expected) =>
        Assert.Equal(expected, RemediationPolicy.Evaluate(VerdictOf(state), excluded, new RemediationRequest(false, @override, ignoreTs)));

    [Fact]
    public void IgnoreTaskSequence_alone_still_respects_the_window()
    {
        Assert.Equal(RemediationSkipReason.NotOverdue, RemediationPolicy.Evaluate(VerdictOf(DeviceState.TaskSequenceRunning), false, new RemediationRequest(IgnoreTaskSequence: true)));
        Assert.Null(RemediationPolicy.Evaluate(VerdictOf(DeviceState.TaskSequenceRunning, pastWindow: true), false, new RemediationRequest(IgnoreTaskSequence: true)));
        Assert.Null(RemediationPolicy.Evaluate(VerdictOf(DeviceState.TaskSequenceRunning), false, new RemediationRequest(Override: true, IgnoreTaskSequence: true)));
    }
}
