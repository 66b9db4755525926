namespace ProvisioningFleet.Data.Devices;

/// <summary>The verdict on a device, as the contract names it (api.md, "The device view").</summary>
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
