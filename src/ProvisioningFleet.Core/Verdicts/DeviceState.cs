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
    Unreachable,
    AccessDenied,
    Error,
}
