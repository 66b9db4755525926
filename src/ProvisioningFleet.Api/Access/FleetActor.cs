using System.Security.Claims;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>Who is calling, as recorded in the audit log and on remediations.</summary>
public static class FleetActor
{
    /// <summary>The name the audit log keeps: the API key's name and id, e.g. <c>ci-bot (key 3)</c>.</summary>
    public static string ActorName(this ClaimsPrincipal user) =>
        user.FindFirstValue(FleetSchemes.KeyIdClaim) is { } keyId
            ? $"{user.Identity?.Name} (key {keyId})"
            : user.Identity?.Name ?? "anonymous";

    public static ApiKeyRole? FleetRole(this ClaimsPrincipal user) =>
        Enum.TryParse<ApiKeyRole>(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;

    public static bool HasRole(this ClaimsPrincipal user, ApiKeyRole least) => user.FleetRole() >= least;

    internal static ClaimsPrincipal Principal(ApiKey key, string authenticationType) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, key.Name),
                new Claim(ClaimTypes.Role, key.Role.ToString()),
                new Claim(FleetSchemes.KeyIdClaim, key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ],
            authenticationType));
}
