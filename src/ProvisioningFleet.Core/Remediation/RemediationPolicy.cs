using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Core.Remediation;

/// <summary>The contract's outcomes of a remediation record.</summary>
public enum RemediationOutcome
{
    InProgress,
    Remediated,
    Failed,
    Skipped,
    DryRun,
}

/// <summary>
/// Why a device was not touched. <see cref="ClientChanged"/> extends the contract's list: the host
/// answering is not the ConfigMgr client the verdict was made on (stale DNS).
/// </summary>
public enum RemediationSkipReason
{
    NotOverdue,
    TaskSequenceRunning,
    Excluded,
    BlastRadius,
    Locked,
    ClientChanged,
}

/// <summary>What the caller asked for; the two exceptions are Admin-only and checked by the API.</summary>
public sealed record RemediationRequest(bool DryRun = false, bool Override = false, bool IgnoreTaskSequence = false);

/// <summary>
/// The safety rules every fix passes, for sweeps and manual requests alike: never an excluded device,
/// never inside the timeout window unless overridden, never while a task sequence runs unless that
/// is explicitly ignored.
/// </summary>
public sealed record RemediationPolicy(bool TriggerPolicyRetrieval = true)
{
    public static RemediationSkipReason? Evaluate(Verdict verdict, bool deviceExcluded, RemediationRequest request)
    {
        if (deviceExcluded)
        {
            return RemediationSkipReason.Excluded;
        }

        return verdict.State switch
        {
            // The client answering is not the one the site knows under this name: no request may touch it.
            DeviceState.IdentityMismatch => RemediationSkipReason.ClientChanged,
            DeviceState.Overdue => null,
            DeviceState.Provisioning => request.Override ? null : RemediationSkipReason.NotOverdue,
            DeviceState.TaskSequenceRunning when !request.IgnoreTaskSequence => RemediationSkipReason.TaskSequenceRunning,
            DeviceState.TaskSequenceRunning => verdict.PastTimeoutWindow || request.Override ? null : RemediationSkipReason.NotOverdue,
            _ => RemediationSkipReason.NotOverdue,
        };
    }
}
