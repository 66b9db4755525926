using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Core.Tests.Inventory;

public sealed class IdentityVerdictTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static ProbeResult OverdueProbe(string clientId) => new()
    {
        StartedAt = Now,
        Duration = TimeSpan.FromMilliseconds(20),
        RoundTrips = 5,
        ClientInstalled = true,
        InProvisioningMode = true,
        ProvisioningEnabledAt = Now.AddDays(-4),
        TaskSequenceSignals = [],
        ClientId = clientId,
    };

    [Fact]
    public void Another_client_than_the_expected_one_is_IdentityMismatch_and_no_request_remediates_it()
    {
        var verdict = Verdict.Decide(OverdueProbe("GUID:B"), VerdictPolicy.Default, Now.AddDays(-1), expectedClientId: "GUID:A");

        Assert.Equal(DeviceState.IdentityMismatch, verdict.State);
        Assert.Equal("GUID:B", verdict.ClientId);
        Assert.Null(verdict.ProvisioningFirstSeenAt);
        foreach (var request in new[] { new RemediationRequest(), new RemediationRequest(Override: true, IgnoreTaskSequence: true) })
        {
            Assert.Equal(RemediationSkipReason.ClientChanged, RemediationPolicy.Evaluate(verdict, deviceExcluded: false, request));
        }
    }

    [Theory]
    [InlineData("GUID:A", "GUID:A")]
    [InlineData("guid:a ", "GUID:A")]
    [InlineData("GUID:B", null)]
    public void The_expected_client_or_no_expectation_is_judged_as_usual(string clientId, string? expected) =>
        Assert.Equal(DeviceState.Overdue, Verdict.Decide(OverdueProbe(clientId), VerdictPolicy.Default, null, expected).State);
}
