namespace ProvisioningFleet.Data.Sweeps;

/// <summary>
/// A slice of a sweep's devices, run as one background job. The device list is fixed when the sweep
/// starts; <see cref="ProcessedDeviceIds"/> grows with the counters in one transaction, so that a
/// re-run after a crash neither counts nor probes a device twice.
/// </summary>
public class SweepShard
{
    public long SweepId { get; set; }
    public int Index { get; set; }
    public long[] DeviceIds { get; set; } = [];
    public long[] ProcessedDeviceIds { get; set; } = [];
    public string? JobId { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}
