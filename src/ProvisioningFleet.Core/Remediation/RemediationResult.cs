using ProvisioningFleet.Core.Probing;

namespace ProvisioningFleet.Core.Remediation;

/// <summary>What a remediation did on the device. <see cref="Verified"/> only when a re-read showed the client out of provisioning mode.</summary>
public sealed record RemediationResult
{
    public required RemediationOutcome Outcome { get; init; }

    public RemediationSkipReason? SkipReason { get; init; }

    /// <summary>True once SetClientProvisioningMode(false) was sent, whatever came back: the device may have changed.</summary>
    public bool FixSent { get; init; }

    public bool Verified { get; init; }

    /// <summary>SystemTaskExcludes read after the fix (null when missing or not read): blank once the client has really left provisioning mode.</summary>
    public string? SystemTaskExcludesAfter { get; init; }

    public ProbeError? Error { get; init; }

    public IReadOnlyList<ScheduleTriggerResult> ScheduleTriggers { get; init; } = [];

    public int RoundTrips { get; init; }
}

/// <summary>One TriggerSchedule call after a fix; a failure is recorded and never fails the remediation.</summary>
public sealed record ScheduleTriggerResult(string ScheduleId, bool Succeeded, ProbeError? Error);
