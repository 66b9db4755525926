namespace ProvisioningFleet.Data.InventorySources;

/// <summary>One sync of a source (or a dry run of one): what it saw, what it changed and what it skipped, and why.</summary>
public class InventorySyncRun
{
    /// <summary>The unique index a second concurrent sync of one source runs into.</summary>
    public const string OneInProgressIndex = "ux_inventory_sync_runs_one_in_progress";

    public long Id { get; set; }
    public long SourceId { get; set; }
    public InventorySyncStatus Status { get; set; }
    public InventorySyncTrigger Trigger { get; set; }
    public bool DryRun { get; set; }
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Members read from the followed collections (each resource once).</summary>
    public int Seen { get; set; }
    public int Created { get; set; }
    public int Updated { get; set; }
    public int Disabled { get; set; }
    public int Deleted { get; set; }

    /// <summary>Every member not turned into a device, with why (jsonb).</summary>
    public List<InventorySkip> Skipped { get; set; } = [];

    public string? Error { get; set; }
}

public static class InventorySyncRuns
{
    /// <summary>The source's runs still queued or running: the rows <see cref="InventorySyncRun.OneInProgressIndex"/> allows one of.</summary>
    public static IQueryable<InventorySyncRun> UnderWay(this IQueryable<InventorySyncRun> runs, long sourceId) =>
        runs.Where(r => r.SourceId == sourceId && (r.Status == InventorySyncStatus.Queued || r.Status == InventorySyncStatus.Running));
}

/// <summary>
/// A member the sync left alone: its name, the site's ResourceID, the reason (a
/// <see cref="ProvisioningFleet.Core.Inventory.MemberSelection"/> reason or one of <see cref="InventorySkipReasons"/>) and a sentence for people.
/// </summary>
public sealed record InventorySkip(string Name, long ResourceId, string Reason, string Detail);

public enum InventorySyncStatus
{
    Queued,
    Running,
    Completed,
    Failed,
}

public enum InventorySyncTrigger
{
    Schedule,
    Manual,
}

/// <summary>Reasons a selected member still does not become a device: the fleet, not the site, stands in the way.</summary>
public static class InventorySkipReasons
{
    /// <summary>The DNS name or the endpoint made from the template is not valid for a device.</summary>
    public const string InvalidName = "InvalidName";

    /// <summary>The source's device credential may not be sent to the member's endpoint (its host patterns or schemes).</summary>
    public const string OutsideCredentialScope = "OutsideCredentialScope";

    /// <summary>A device created by hand (or imported) has the host name: a sync never touches it.</summary>
    public const string HandMadeDevice = "HandMadeDevice";

    /// <summary>Another source brought the host: a conflict to resolve, never a takeover.</summary>
    public const string OtherSource = "OtherSource";
}
