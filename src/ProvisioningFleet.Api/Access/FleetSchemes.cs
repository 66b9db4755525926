namespace ProvisioningFleet.Api.Access;

/// <summary>Authentication schemes: an API key in <see cref="ApiKeyHeader"/> for scripts, a cookie for browsers.</summary>
public static class FleetSchemes
{
    public const string ApiKey = "ApiKey";
    public const string Cookie = "FleetCookie";

    /// <summary>Chooses <see cref="ApiKey"/> when the header is present, else <see cref="Cookie"/>.</summary>
    public const string Default = "Fleet";

    public const string ApiKeyHeader = "X-Api-Key";
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";

    public const string KeyIdClaim = "fleet:key_id";

    /// <summary>When set, an Admin key with this value exists after start-up.</summary>
    public const string BootstrapAdminKeySetting = "FLEET_ADMIN_API_KEY";
}
