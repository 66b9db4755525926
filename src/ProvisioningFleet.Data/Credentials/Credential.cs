using ProvisioningFleet.Core.Cim;

namespace ProvisioningFleet.Data.Credentials;

/// <summary>
/// A named account for reaching devices. <see cref="ProtectedPassword"/> is ASP.NET Core Data
/// Protection ciphertext; the plain password exists only in memory for the duration of a call.
/// </summary>
public class Credential
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public string UserName { get; set; } = "";
    public string? Domain { get; set; }
    public string ProtectedPassword { get; set; } = "";

    /// <summary>The hosts the credential may be sent to (names, <c>*.suffix</c>, IP networks, <c>*</c>); empty: each device's own host name.</summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>The authentication schemes it may be used with; empty: every scheme (Basic still only over HTTPS outside a lab).</summary>
    public CimAuthentication[] AllowedAuthentications { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
