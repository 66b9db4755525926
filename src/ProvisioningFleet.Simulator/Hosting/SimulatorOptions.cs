namespace ProvisioningFleet.Simulator.Hosting;

/// <summary>
/// A user the simulated WinRM listeners accept (Basic, NTLM, Negotiate, Kerberos). For Kerberos the KDC
/// checks the password; the listener lets in the principal <c>UserName@Domain</c> (the realm).
/// </summary>
public sealed record SimulatedUser(string UserName, string Password, string? Domain = null);

/// <summary>How the simulator listens and whom it lets in. Defaults suit tests: loopback, ephemeral port.</summary>
public sealed class SimulatorOptions
{
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTP port; 0 = ephemeral.</summary>
    public int HttpPort { get; set; }

    /// <summary>HTTPS port with a generated self-signed certificate; null = no HTTPS, 0 = ephemeral.</summary>
    public int? HttpsPort { get; set; }

    public IList<SimulatedUser> Users { get; set; } = [];

    public bool AllowBasic { get; set; } = true;

    public bool AllowNegotiate { get; set; } = true;

    /// <summary>
    /// The keytab with the devices' <c>HTTP/host</c> keys, for Kerberos. Process-wide (MIT reads
    /// <c>KRB5_KTNAME</c>): set it before anything in the process uses GSSAPI. Null leaves the
    /// environment's keytab (KRB5_KTNAME or /etc/krb5.keytab).
    /// </summary>
    public string? KerberosKeytab { get; set; }

    /// <summary>
    /// Windows' AllowUnencrypted: when false, Basic over plain HTTP is refused and every message of a
    /// Negotiate session over plain HTTP must be encrypted with the session key.
    /// </summary>
    public bool AllowUnencrypted { get; set; } = true;

    /// <summary>The real clock the devices' clocks are derived from.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How many invocations each device keeps in its log (oldest dropped first).</summary>
    public int InvocationLogCapacity { get; set; } = 200;

    /// <summary>
    /// Also log registry reads (StdRegProv), not only the ConfigMgr client's methods. On for tests;
    /// the command line turns it off so that a large fleet swept for hours keeps a small log.
    /// </summary>
    public bool RecordReads { get; set; } = true;

    /// <summary>Seed for the flaky-device fault draw; null = unseeded.</summary>
    public int? FaultSeed { get; set; }

    /// <summary>Serve the inspection API under /simulator.</summary>
    public bool EnableInspection { get; set; } = true;
}
