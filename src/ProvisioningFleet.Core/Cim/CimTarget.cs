namespace ProvisioningFleet.Core.Cim;

/// <summary>
/// Where and how to reach one device. The password is plain only in memory, for the call.
/// <paramref name="ServicePrincipalName"/> overrides the Kerberos SPN <c>HTTP/&lt;endpoint host&gt;</c>.
/// </summary>
public sealed record CimTarget(
    string HostName,
    Uri Endpoint,
    CimTransport Transport,
    CimAuthentication Authentication,
    CimCredential? Credential,
    string? ServicePrincipalName = null)
{
    /// <summary>The WS-Man URL for a host name: 5985 over HTTP, 5986 over HTTPS, path /wsman.</summary>
    public static Uri DefaultEndpoint(string hostName, CimTransport transport) =>
        new(transport == CimTransport.Https ? $"https://{hostName}:5986/wsman" : $"http://{hostName}:5985/wsman");

    public override string ToString() => $"{HostName} ({Endpoint}, {Transport}, {Authentication})";
}

public enum CimTransport
{
    Http,
    Https,
}

public enum CimAuthentication
{
    Negotiate,
    Ntlm,
    Kerberos,
    Basic,
}

/// <summary>A credential in clear for the duration of a call; its ToString never shows the password.</summary>
public sealed record CimCredential(string UserName, string Password, string? Domain)
{
    public override string ToString() => Domain is null ? UserName : $@"{Domain}\{UserName}";
}
