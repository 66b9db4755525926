namespace ProvisioningFleet.Core.Probing;

/// <summary>
/// What a probe read from one device, before any judgement. <see cref="Error"/> is set when the
/// probe could not finish; the facts read before the failure are kept.
/// </summary>
public sealed record ProbeResult
{
    /// <summary>Service time when the probe started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>WS-Man round trips the probe made (a healthy client costs one).</summary>
    public required int RoundTrips { get; init; }

    public ProbeError? Error { get; init; }

    /// <summary>False when the CcmExec key or root\ccm is missing: no ConfigMgr client.</summary>
    public bool? ClientInstalled { get; init; }

    public bool? InProvisioningMode { get; init; }

    /// <summary>ProvisioningEnabledTime as the client wrote it, by the client's clock; null when missing or unreadable.</summary>
    public DateTimeOffset? ProvisioningEnabledAt { get; init; }

    /// <summary>The registry text or number of ProvisioningEnabledTime, kept for the record even when unreadable.</summary>
    public string? ProvisioningEnabledTimeRaw { get; init; }

    public int? ProvisioningMaxMinutes { get; init; }

    public string? SystemTaskExcludes { get; init; }

    /// <summary>
    /// The task-sequence signals seen (TSManager.exe, SetupHost.exe, CCM_TSExecutionRequest instances),
    /// including the ones that do not hold the device (a dead sequence's request); null when not read.
    /// </summary>
    public IReadOnlyList<TaskSequenceSignal>? TaskSequenceSignals { get; init; }

    public bool? TaskSequenceRunning => TaskSequenceSignals?.Any(s => s.Holds);

    /// <summary>The device's clock, and the service time at which it was read, for the skew.</summary>
    public DateTimeOffset? DeviceClock { get; init; }

    public DateTimeOffset? DeviceClockReadAt { get; init; }

    public string? ClientId { get; init; }
}
