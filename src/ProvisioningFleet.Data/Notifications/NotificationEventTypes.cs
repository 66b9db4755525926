namespace ProvisioningFleet.Data.Notifications;

/// <summary>The event names of the contract (api.md, Notifications).</summary>
public static class NotificationEventTypes
{
    public const string DeviceOverdue = "device.overdue";
    public const string DeviceIdentityMismatch = "device.identityMismatch";
    public const string RemediationFailed = "remediation.failed";
    public const string RemediationSucceeded = "remediation.succeeded";
    public const string SweepCompleted = "sweep.completed";
    public const string SweepFailed = "sweep.failed";

    public static readonly IReadOnlyList<string> All =
        [DeviceOverdue, RemediationFailed, RemediationSucceeded, DeviceIdentityMismatch, SweepCompleted, SweepFailed];
}
