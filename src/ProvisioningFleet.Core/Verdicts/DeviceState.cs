namespace ProvisioningFleet.Core.Verdicts;

/// <summary>The states of the service contract (api.md), by their contract names.</summary>
public enum DeviceState
{
    Unknown,
    Healthy,
    Provisioning,
    Overdue,
    TaskSequenceRunning,
    NoClient,

    /// <summary>The client answering is not the one the device's inventory source expects (stale DNS): never remediated.</summary>
    IdentityMismatch,
    Unreachable,
    AccessDenied,
    Error,
}
