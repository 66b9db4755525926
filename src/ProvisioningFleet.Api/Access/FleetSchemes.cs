namespace ProvisioningFleet.Api.Access;

/// <summary>Authentication schemes: an API key in <see cref="ApiKeyHeader"/> for scripts, a cookie for browsers.</summary>
public static class FleetSchemes
{
    public const string ApiKey = "ApiKey";
    public const string Cookie = "FleetCookie";

    /// <summary>Chooses <see cref="ApiKey"/> when a key is presented (either header), else <see cref="Cookie"/>.</summary>
    public const string Default = "Fleet";

    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>
    /// The other way to present a key, <c>Authorization: Bearer &lt;key&gt;</c>: what Prometheus sends
    /// (<c>authorization.credentials_file</c>), which cannot set an arbitrary header from a file.
    /// </summary>
    public const string BearerPrefix = "Bearer ";
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";

    public const string KeyIdClaim = "fleet:key_id";

    /// <summary>When set, an Admin key with this value exists after start-up.</summary>
    public const string BootstrapAdminKeySetting = "FLEET_ADMIN_API_KEY";

    /// <summary>True when the request presents an API key, in <see cref="ApiKeyHeader"/> or as a bearer token.</summary>
    public static bool PresentsApiKey(HttpRequest request) =>
        request.Headers.ContainsKey(ApiKeyHeader)
        || request.Headers.Authorization.ToString().StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase);
}
