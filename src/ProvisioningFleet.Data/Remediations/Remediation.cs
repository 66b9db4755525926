using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Data.Remediations;

/// <summary>
/// One attempt to take a client out of provisioning mode. Written as <see cref="RemediationOutcome.InProgress"/>
/// before the remote call so that a crash leaves a trace; the database allows one in progress per device.
/// </summary>
public class Remediation
{
    /// <summary>The partial unique index behind "one in progress per device"; callers tell its violation from others by this name.</summary>
    public const string OneInProgressIndex = "ux_remediations_one_in_progress_per_device";

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

    /// <summary>True once SetClientProvisioningMode(false) was sent: the device may have changed even when the outcome is Failed.</summary>
    public bool FixSent { get; set; }

    /// <summary>Whether TriggerSchedule {...021} and {...022} both succeeded after the fix; null when not asked.</summary>
    public bool? PolicyRetrievalTriggered { get; set; }

    /// <summary>Why a TriggerSchedule failed; recorded, never a failure of the remediation.</summary>
    public string? PolicyRetrievalError { get; set; }

    /// <summary>SystemTaskExcludes as the probe behind this remediation read it: the scheduler tasks provisioning mode suppressed.</summary>
    public string? SystemTaskExcludesBefore { get; set; }

    /// <summary>SystemTaskExcludes read after the fix: blank once the client has really left provisioning mode; null when missing or unread.</summary>
    public string? SystemTaskExcludesAfter { get; set; }

    public CimErrorCategory? ErrorCategory { get; set; }
    public string? ErrorMessage { get; set; }
    public long? ErrorCode { get; set; }
}

public enum RemediationTrigger
{
    Sweep,
    Manual,
}
