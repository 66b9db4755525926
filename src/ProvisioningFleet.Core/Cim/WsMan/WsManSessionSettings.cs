namespace ProvisioningFleet.Core.Cim.WsMan;

/// <summary>
/// How the service talks WS-Management to every device; bound from the <c>Fleet:WinRm</c>
/// configuration section (e.g. <c>Fleet__WinRm__AllowUnencrypted=true</c>).
/// </summary>
public sealed class WsManSessionSettings
{
    public const string Section = "Fleet:WinRm";

    /// <summary>Allows Basic authentication over plain HTTP: labs and the simulator only.</summary>
    public bool AllowUnencrypted { get; set; }

    /// <summary>The limit for one WS-Man operation (sent to the server as OperationTimeout; the client waits 5 s longer).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most bytes accepted in one reply.</summary>
    public int MaxReplyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The most reply bytes one query may read across all its pages.</summary>
    public long MaxQueryBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>A PEM file of CA certificates trusted for HTTPS instead of the system store.</summary>
    public string? TrustedCaFile { get; set; }

    /// <summary>The SHA-256 hash (hex) of the one server certificate accepted for HTTPS.</summary>
    public string? PinnedCertificateSha256 { get; set; }

    /// <summary>Accepts any HTTPS certificate. Logged as a warning for every session opened with it.</summary>
    public bool SkipCertificateValidation { get; set; }

    /// <summary>How long an unused pooled session (and its authenticated connection) is kept.</summary>
    public TimeSpan IdleSessionTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most unused sessions kept open; sessions in use are never closed and do not count. A sweep
    /// touches every device once, so without a cap a large fleet would hold a connection per device;
    /// past it, the least recently used idle session closes. Enough for a fix to find its probe's
    /// session (the same device, a few milliseconds later) while thousands of devices a second pass.
    /// </summary>
    public int MaxIdleSessions { get; set; } = 128;
}
