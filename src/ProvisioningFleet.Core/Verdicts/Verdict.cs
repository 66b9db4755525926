using ProvisioningFleet.Core.Probing;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Verdicts;

/// <summary>The settings a verdict depends on (a slice of the fleet policy).</summary>
public sealed record VerdictPolicy(int? RemediateAfterMinutes, int GraceMinutes)
{
    /// <summary>ConfigMgr's own timeout when ProvisioningMaxMinutes is missing or 0.</summary>
    public const int ClientDefaultMaxMinutes = 2880;

    public static readonly VerdictPolicy Default = new(null, 60);

    public int TimeoutWindowMinutes(int? provisioningMaxMinutes) =>
        RemediateAfterMinutes ?? (provisioningMaxMinutes is null or 0 ? ClientDefaultMaxMinutes : provisioningMaxMinutes.Value) + GraceMinutes;
}

/// <summary>The judgement of one probe: a contract state plus the figures it rests on.</summary>
public sealed record Verdict
{
    public required DeviceState State { get; init; }

    public required DateTimeOffset CheckedAt { get; init; }

    public bool? InProvisioningMode { get; init; }

    public DateTimeOffset? ProvisioningEnabledAt { get; init; }

    public int? ProvisioningMaxMinutes { get; init; }

    public int? EffectiveTimeoutMinutes { get; init; }

    /// <summary>When the window ends, in service time (corrected for the device's clock skew).</summary>
    public DateTimeOffset? OverdueAt { get; init; }

    public int? ClockSkewSeconds { get; init; }

    public bool? TaskSequenceRunning { get; init; }

    /// <summary>The task-sequence signals read, in words, those that do not hold the device included: why a device is (or is not) held.</summary>
    public IReadOnlyList<string>? TaskSequenceSignals { get; init; }

    /// <summary>The REG_SZ SystemTaskExcludes as the probe read it (only a client in provisioning mode is read that far).</summary>
    public string? SystemTaskExcludes { get; init; }

    public string? ClientId { get; init; }

    /// <summary>
    /// Service time when the service first saw the device in provisioning mode, carried from probe to
    /// probe: the window's start when the client's own timestamp is missing or unreadable.
    /// </summary>
    public DateTimeOffset? ProvisioningFirstSeenAt { get; init; }

    /// <summary>True when the timeout window has run out, whatever else holds (a task sequence may still protect the device).</summary>
    public bool PastTimeoutWindow { get; init; }

    public ProbeError? Error { get; init; }

    /// <summary>WS-Man round trips the probe behind this verdict made.</summary>
    public int RoundTrips { get; init; }

    /// <summary>
    /// Judges a probe. Elapsed time is measured by the device's clock where it was read (the client
    /// wrote ProvisioningEnabledTime by that clock), so a skewed clock cannot make a device overdue.
    /// <paramref name="expectedClientId"/> is the identity the device's inventory source holds for it:
    /// a probe that reads another client is <see cref="DeviceState.IdentityMismatch"/>, whatever its mode.
    /// </summary>
    public static Verdict Decide(ProbeResult probe, VerdictPolicy policy, DateTimeOffset? previousFirstSeenAt, string? expectedClientId = null)
    {
        var checkedAt = probe.StartedAt + probe.Duration;
        var verdict = new Verdict
        {
            State = DeviceState.Unknown,
            CheckedAt = checkedAt,
            InProvisioningMode = probe.InProvisioningMode,
            ProvisioningEnabledAt = probe.ProvisioningEnabledAt,
            ProvisioningMaxMinutes = probe.ProvisioningMaxMinutes,
            TaskSequenceRunning = probe.TaskSequenceRunning,
            TaskSequenceSignals = probe.TaskSequenceSignals?.Select(s => s.Description).ToArray(),
            SystemTaskExcludes = probe.SystemTaskExcludes,
            ClientId = probe.ClientId,
            Error = probe.Error,
            ProvisioningFirstSeenAt = previousFirstSeenAt,
            RoundTrips = probe.RoundTrips,
        };

        if (probe.Error is { } error)
        {
            return verdict with { State = StateFor(error, probe) };
        }

        if (expectedClientId is not null && probe.ClientId is { } clientId
            && !string.Equals(clientId.Trim(), expectedClientId.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            // Another machine answers under this name (stale DNS): its provisioning window is not this device's.
            return verdict with { State = DeviceState.IdentityMismatch, ProvisioningFirstSeenAt = null };
        }

        if (probe.ClientInstalled == false)
        {
            return verdict with { State = DeviceState.NoClient, ProvisioningFirstSeenAt = null };
        }

        if (probe.InProvisioningMode != true)
        {
            return verdict with { State = DeviceState.Healthy, ProvisioningFirstSeenAt = null };
        }

        var firstSeen = previousFirstSeenAt ?? probe.StartedAt;
        var window = policy.TimeoutWindowMinutes(probe.ProvisioningMaxMinutes);
        TimeSpan? skew = probe.DeviceClock is { } deviceClock && probe.DeviceClockReadAt is { } readAt ? deviceClock - readAt : null;
        var overdueAt = probe.ProvisioningEnabledAt is { } enabledAt
            ? enabledAt + TimeSpan.FromMinutes(window) - (skew ?? TimeSpan.Zero)
            : firstSeen + TimeSpan.FromMinutes(window);
        var pastWindow = checkedAt >= overdueAt;

        return verdict with
        {
            State = probe.TaskSequenceRunning == true ? DeviceState.TaskSequenceRunning
                : pastWindow ? DeviceState.Overdue
                : DeviceState.Provisioning,
            EffectiveTimeoutMinutes = window,
            OverdueAt = overdueAt,
            ClockSkewSeconds = skew is { } s ? (int)Math.Round(s.TotalSeconds) : null,
            ProvisioningFirstSeenAt = firstSeen,
            PastTimeoutWindow = pastWindow,
        };
    }

    /// <summary>
    /// The verdict after a verified fix: the re-read showed the client out of provisioning mode, so the
    /// device is healthy from then on without another probe.
    /// </summary>
    public Verdict AfterVerifiedFix(DateTimeOffset at) => this with
    {
        State = DeviceState.Healthy,
        CheckedAt = at,
        InProvisioningMode = false,
        EffectiveTimeoutMinutes = null,
        OverdueAt = null,
        ProvisioningFirstSeenAt = null,
        PastTimeoutWindow = false,
        Error = null,
    };

    private static DeviceState StateFor(ProbeError error, ProbeResult probe) => error.Category switch
    {
        CimErrorCategory.Network or CimErrorCategory.Timeout => DeviceState.Unreachable,
        CimErrorCategory.AccessDenied => DeviceState.AccessDenied,
        // A missing class or namespace once the device answered means no ConfigMgr client; before any answer it is an odd WMI.
        CimErrorCategory.NotFound when probe.InProvisioningMode is not null => DeviceState.NoClient,
        _ => DeviceState.Error,
    };
}
