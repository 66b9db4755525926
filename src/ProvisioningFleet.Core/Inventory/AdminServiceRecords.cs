using System.Text.Json.Serialization;

namespace ProvisioningFleet.Core.Inventory;

/// <summary>One row of <c>SMS_FullCollectionMembership</c>: a resource in a collection, with the site's view of its client.</summary>
public sealed record CollectionMember
{
    [JsonPropertyName("CollectionID")]
    public string? CollectionId { get; init; }

    [JsonPropertyName("ResourceID")]
    public long ResourceId { get; init; }

    /// <summary>The NetBIOS name.</summary>
    [JsonPropertyName("Name")]
    public string? Name { get; init; }

    [JsonPropertyName("Domain")]
    public string? Domain { get; init; }

    /// <summary>The client's identity (<c>GUID:...</c>), the same string as its <c>CCM_Client.ClientId</c>.</summary>
    [JsonPropertyName("SMSID")]
    public string? SmsId { get; init; }

    [JsonPropertyName("IsClient")]
    public bool? IsClient { get; init; }

    [JsonPropertyName("IsActive")]
    public bool? IsActive { get; init; }

    [JsonPropertyName("IsObsolete")]
    public bool? IsObsolete { get; init; }

    [JsonPropertyName("IsDecommissioned")]
    public bool? IsDecommissioned { get; init; }

    [JsonPropertyName("ClientVersion")]
    public string? ClientVersion { get; init; }

    [JsonPropertyName("SiteCode")]
    public string? SiteCode { get; init; }
}

/// <summary>One row of <c>SMS_R_System</c>, reduced to what names the device.</summary>
public sealed record SystemRecord
{
    [JsonPropertyName("ResourceId")]
    public long ResourceId { get; init; }

    [JsonPropertyName("Name")]
    public string? Name { get; init; }

    /// <summary>The DNS names of the machine; the first is its FQDN.</summary>
    [JsonPropertyName("ResourceNames")]
    public string[]? ResourceNames { get; init; }

    [JsonPropertyName("SMSUniqueIdentifier")]
    public string? SmsUniqueIdentifier { get; init; }
}

/// <summary>One row of <c>SMS_Collection</c>.</summary>
public sealed record SiteCollection
{
    [JsonPropertyName("CollectionID")]
    public string? CollectionId { get; init; }

    [JsonPropertyName("Name")]
    public string? Name { get; init; }

    [JsonPropertyName("MemberCount")]
    public long? MemberCount { get; init; }
}

/// <summary>An OData collection reply, page by page when the service pages.</summary>
internal sealed record ODataPage<T>
{
    [JsonPropertyName("value")]
    public List<T>? Value { get; init; }

    [JsonPropertyName("@odata.nextLink")]
    public string? NextLink { get; init; }
}

/// <summary>Why a read of the AdminService failed: each a different thing for an administrator to fix.</summary>
public enum AdminServiceFailure
{
    /// <summary>The provider did not answer: name, network or port.</summary>
    Unreachable,
    Timeout,
    Tls,

    /// <summary>HTTP 401: the credential was refused.</summary>
    Unauthorized,

    /// <summary>HTTP 403: authenticated, but the account may not read the site.</summary>
    Forbidden,

    /// <summary>A followed collection does not exist on the site.</summary>
    UnknownCollection,

    /// <summary>An answer that is not the AdminService's OData, or one over the size bounds.</summary>
    Protocol,

    /// <summary>Settings that cannot be used (an http:// URL, a bad pinned hash).</summary>
    Configuration,
}

public sealed class AdminServiceException(AdminServiceFailure failure, string message, int? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    public AdminServiceFailure Failure { get; } = failure;

    public int? StatusCode { get; } = statusCode;
}
