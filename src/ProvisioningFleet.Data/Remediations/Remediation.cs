using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Data.Remediations;

/// <summary>
/// One attempt to take a client out of provisioning mode. Written as <see cref="RemediationOutcome.InProgress"/>
/// before the remote call so that a crash leaves a trace; the database allows one in progress per device.
/// </summary>
public class Remediation
{
    public long Id { get; set; }
    public long DeviceId { get; set; }
    public string HostName { get; set; } = "";
    public RemediationTrigger Trigger { get; set; }
    public string Actor { get; set; } = "";
    public long? SweepId { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public RemediationOutcome Outcome { get; set; }
    public RemediationSkipReason? SkipReason { get; set; }
    public string? Justification { get; set; }
    public bool Override { get; set; }
    public bool IgnoreTaskSequence { get; set; }
    public bool Verified { get; set; }

    /// <summary>The ConfigMgr client identity the verdict was made on; a different one at fix time stops the fix.</summary>
    public string? ClientId { get; set; }

    public CimErrorCategory? ErrorCategory { get; set; }
    public string? ErrorMessage { get; set; }
    public long? ErrorCode { get; set; }
}

public enum RemediationTrigger
{
    Sweep,
    Manual,
}

public enum RemediationOutcome
{
    InProgress,
    Remediated,
    Failed,
    Skipped,
    DryRun,
}

public enum RemediationSkipReason
{
    NotOverdue,
    TaskSequenceRunning,
    Excluded,
    BlastRadius,
    Locked,
}
