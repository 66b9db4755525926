using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Data.Sweeps;

/// <summary>One pass over the fleet (or the devices with a tag): its progress and counts.</summary>
public class Sweep
{
    public long Id { get; set; }
    public SweepStatus Status { get; set; }
    public SweepTrigger Trigger { get; set; }
    public bool DryRun { get; set; }
    public string? Tag { get; set; }
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int Total { get; set; }
    public int Probed { get; set; }

    /// <summary>Device count per <see cref="DeviceState"/> name (jsonb).</summary>
    public Dictionary<string, int> ByState { get; set; } = [];

    public int Remediated { get; set; }
    public int RemediationsFailed { get; set; }
    public int Skipped { get; set; }
    public int WouldRemediate { get; set; }
    public bool CancelRequested { get; set; }

    /// <summary>WS-Man round trips made by probes and fixes so far: the cost of the sweep on the wire.</summary>
    public long RoundTrips { get; set; }

    /// <summary>The blast-radius limit taken from the policy when the sweep started.</summary>
    public int RemediationLimit { get; set; }

    /// <summary>Fixes (or dry-run would-fixes) granted so far, across all shards; never above <see cref="RemediationLimit"/>.</summary>
    public int RemediationSlotsUsed { get; set; }

    public int ShardCount { get; set; }
    public int ShardsCompleted { get; set; }
    public string? Error { get; set; }
}

public enum SweepStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public enum SweepTrigger
{
    Schedule,
    Manual,
}
