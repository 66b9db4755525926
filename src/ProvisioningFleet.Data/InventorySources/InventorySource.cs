using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data.Credentials;

namespace ProvisioningFleet.Data.InventorySources;

/// <summary>
/// One ConfigMgr site's administration service and the collections whose members become devices,
/// with the settings every device it brings is given.
/// </summary>
public class InventorySource
{
    public long Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The AdminService root, e.g. <c>https://cm01.corp.example/AdminService</c>.</summary>
    public string AdminServiceUrl { get; set; } = "";

    /// <summary>The account that reads the site (Negotiate: Kerberos or NTLM).</summary>
    public long CredentialId { get; set; }
    public Credential? Credential { get; set; }

    /// <summary>
    /// The SHA-256 hash of the AdminService's certificate, accepted instead of the trust the devices'
    /// HTTPS settings give (a site with a self-signed provider certificate).
    /// </summary>
    public string? CertificateSha256 { get; set; }

    public string[] CollectionIds { get; set; } = [];

    /// <summary>The WinRM URL of each member, with <c>{fqdn}</c> (and optionally <c>{name}</c>) filled in.</summary>
    public string EndpointTemplate { get; set; } = "";
    public CimAuthentication Authentication { get; set; } = CimAuthentication.Negotiate;

    public long? DeviceCredentialId { get; set; }
    public Credential? DeviceCredential { get; set; }

    public string[] Tags { get; set; } = [];
    public string SyncCron { get; set; } = "*/30 * * * *";
    public InventoryRemovalAction OnRemoved { get; set; } = InventoryRemovalAction.Disable;
    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What happens to a device whose member left every followed collection.</summary>
public enum InventoryRemovalAction
{
    Disable,
    Delete,
}
