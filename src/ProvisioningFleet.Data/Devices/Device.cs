using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Credentials;
using ProvisioningFleet.Data.Remediations;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Data.Devices;

/// <summary>
/// One managed machine: how to reach it, and the latest verdict on it. The verdict lives on this row
/// (not only in <see cref="DeviceStateChange"/>) so that lists and counts never scan history.
/// </summary>
public class Device
{
    public long Id { get; set; }

    /// <summary>As the caller wrote it.</summary>
    public string HostName { get; private set; } = "";

    /// <summary>Lower-case <see cref="HostName"/>: the unique, case-insensitive identity and the search column.</summary>
    public string HostNameKey { get; private set; } = "";

    public string Endpoint { get; set; } = "";
    public CimTransport Transport { get; set; } = CimTransport.Http;
    public CimAuthentication Authentication { get; set; } = CimAuthentication.Negotiate;

    /// <summary>The Kerberos service principal when it is not <c>HTTP/&lt;endpoint host&gt;</c> (e.g. an endpoint given by IP address).</summary>
    public string? ServicePrincipalName { get; set; }

    public long? CredentialId { get; set; }
    public Credential? Credential { get; set; }

    /// <summary>As the caller wrote them.</summary>
    public string[] Tags { get; private set; } = [];

    /// <summary>Lower-case <see cref="Tags"/>, GIN-indexed: tags match case-insensitively.</summary>
    public string[] TagKeys { get; private set; } = [];

    public bool Enabled { get; set; } = true;
    public bool RemediationExcluded { get; set; }

    public DeviceState State { get; set; } = DeviceState.Unknown;
    public bool? InProvisioningMode { get; set; }
    public DateTimeOffset? ProvisioningEnabledAt { get; set; }
    public int? ProvisioningMaxMinutes { get; set; }
    public int? EffectiveTimeoutMinutes { get; set; }
    public DateTimeOffset? OverdueAt { get; set; }
    public int? ClockSkewSeconds { get; set; }
    public bool? TaskSequenceRunning { get; set; }

    /// <summary>The task-sequence signals the last probe read, in words, those that do not hold the device included.</summary>
    public string[]? TaskSequenceSignals { get; set; }
    public string? ClientId { get; set; }

    /// <summary>When the service first saw the client in provisioning mode: the fallback when the client's own timestamp is missing.</summary>
    public DateTimeOffset? FirstSeenInProvisioningAt { get; set; }

    public DateTimeOffset? LastCheckedAt { get; set; }
    public CimErrorCategory? LastErrorCategory { get; set; }
    public string? LastErrorMessage { get; set; }
    public long? LastErrorCode { get; set; }

    public long? LastRemediationId { get; set; }
    public Remediation? LastRemediation { get; set; }

    /// <summary>The inventory source that brought the device; null for a device created by hand or imported.</summary>
    public long? InventorySourceId { get; set; }
    public InventorySources.InventorySource? InventorySource { get; set; }

    /// <summary>The site's ResourceID of the member behind the device (with <see cref="InventorySourceId"/>).</summary>
    public long? SourceResourceId { get; set; }

    /// <summary>The site's SMSID for the member: the <c>CCM_Client.ClientId</c> the device must answer with.</summary>
    public string? ExpectedClientId { get; set; }

    /// <summary>
    /// True when the source disabled the device because its member left the collections: a member that
    /// comes back is enabled again, a device an administrator disabled stays disabled.
    /// </summary>
    public bool DisabledBySource { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>PostgreSQL's xmin: a probe and an edit of the same row cannot silently overwrite each other.</summary>
    public uint Version { get; set; }

    public void SetHostName(string hostName)
    {
        HostName = hostName;
        HostNameKey = KeyOf(hostName);
    }

    public void SetTags(IEnumerable<string> tags)
    {
        Tags = tags.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        TagKeys = Tags.Select(KeyOf).ToArray();
    }

    /// <summary>The collation of the host-name search's trigram index; a search names it to use that index.</summary>
    public const string SearchCollation = "C";

    /// <summary>The case-insensitive key for host names and tags; queries compare against it.</summary>
    public static string KeyOf(string value) => value.ToLowerInvariant();
}
