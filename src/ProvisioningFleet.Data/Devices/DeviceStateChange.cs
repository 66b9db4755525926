using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Data.Devices;

/// <summary>One change of a device's verdict (history); the current verdict is on <see cref="Device"/>.</summary>
public class DeviceStateChange
{
    public long Id { get; set; }
    public long DeviceId { get; set; }
    public DateTimeOffset At { get; set; }
    public DeviceState FromState { get; set; }
    public DeviceState ToState { get; set; }
    public long? SweepId { get; set; }
    public bool? InProvisioningMode { get; set; }
    public DateTimeOffset? ProvisioningEnabledAt { get; set; }
    public DateTimeOffset? OverdueAt { get; set; }
    public bool? TaskSequenceRunning { get; set; }
    public string[]? TaskSequenceSignals { get; set; }
    public string? ClientId { get; set; }
    public CimErrorCategory? ErrorCategory { get; set; }
    public string? ErrorMessage { get; set; }
    public long? ErrorCode { get; set; }
}
