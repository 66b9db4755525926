using System.Security.Cryptography.X509Certificates;

namespace ProvisioningFleet.WsMan;

/// <summary>How to reach and authenticate to one WS-Management endpoint.</summary>
public sealed record WsManClientOptions
{
    /// <summary>The full listener URL, e.g. <c>http://host:5985/wsman</c>.</summary>
    public required Uri Endpoint { get; init; }

    public WsManAuthentication Authentication { get; init; } = WsManAuthentication.Negotiate;

    /// <summary>Required for Basic and NTLM; without one, Negotiate and Kerberos use the process's own identity.</summary>
    public WsManCredential? Credential { get; init; }

    /// <summary>
    /// Lets Basic authentication travel over plain HTTP (labs and simulators only). Without it such a
    /// client refuses to send anything, because Basic over HTTP gives the password away.
    /// </summary>
    public bool AllowUnencrypted { get; init; }

    public WsManTlsOptions Tls { get; init; } = new();

    /// <summary>Sent as <c>wsman:OperationTimeout</c>: how long the server may work on one operation.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How much longer than <see cref="OperationTimeout"/> the client waits for a reply before giving up.</summary>
    public TimeSpan ReplyGrace { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an unused kept-alive connection stays open (an NTLM session re-authenticates after).</summary>
    public TimeSpan ConnectionIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Sent as <c>wsman:MaxEnvelopeSize</c> (Windows' default is 512000 bytes).</summary>
    public int MaxEnvelopeSize { get; init; } = 512_000;

    /// <summary>
    /// The most bytes read from one HTTP reply (encrypted framing included). A reply over the cap is a
    /// protocol error, never buffered whole.
    /// </summary>
    public int MaxReplyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The most instances one query may return across all its Pulls.</summary>
    public int MaxQueryItems { get; init; } = 100_000;

    /// <summary>
    /// The most reply bytes one query may read across its Enumerate and all its Pulls. Each reply is
    /// also capped by <see cref="MaxReplyBytes"/>; this bounds a server that keeps sending full pages.
    /// </summary>
    public long MaxQueryBytes { get; init; } = 8 * 1024 * 1024;

    public string Locale { get; init; } = "en-US";

    /// <summary>The Kerberos service principal; defaults to <c>HTTP/&lt;host&gt;</c> as WinRM registers it.</summary>
    public string? ServicePrincipalName { get; init; }

    internal TimeSpan RequestTimeout => OperationTimeout + ReplyGrace;
}

public enum WsManAuthentication
{
    /// <summary>SPNEGO: Kerberos where the domain offers it, else NTLM.</summary>
    Negotiate,
    Ntlm,
    Kerberos,
    Basic,
}

/// <summary>The account used to authenticate; its ToString never shows the password.</summary>
public sealed record WsManCredential(string UserName, string Password, string? Domain = null)
{
    public override string ToString() => Domain is null ? UserName : $@"{Domain}\{UserName}";
}

/// <summary>
/// Server certificate checks for HTTPS. By default the system trust store and host name decide.
/// A pinned thumbprint or custom CAs replace the system store; skipping validation is an explicit,
/// logged choice.
/// </summary>
public sealed record WsManTlsOptions
{
    /// <summary>Trusted roots used instead of the system store (the host name must still match).</summary>
    public X509Certificate2Collection? TrustedCertificateAuthorities { get; init; }

    /// <summary>The SHA-256 hash of the server certificate (hex, colons and spaces ignored): only that certificate is accepted.</summary>
    public string? PinnedSha256Thumbprint { get; init; }

    /// <summary>Accepts any server certificate. Logged as a warning whenever a client is built with it.</summary>
    public bool SkipCertificateValidation { get; init; }
}
