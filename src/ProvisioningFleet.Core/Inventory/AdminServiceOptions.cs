namespace ProvisioningFleet.Core.Inventory;

/// <summary>Bounds on every read of a site's AdminService (configuration section <c>Fleet:Inventory</c>).</summary>
public sealed class AdminServiceOptions
{
    public const string Section = "Fleet:Inventory";

    /// <summary>The deadline for one HTTP request (one page), authentication included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most bytes read from one reply; a larger one is refused, never buffered whole.</summary>
    public int MaxReplyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>The most rows one query may return across its pages (a collection's members).</summary>
    public int MaxRows { get; set; } = 1_000_000;

    /// <summary>
    /// Resources per <c>SMS_R_System</c> request: each is a <c>ResourceId eq N</c> term in the URL, and
    /// IIS refuses query strings over 2,048 characters by default.
    /// </summary>
    public int ResourceBatchSize { get; set; } = 50;
}
