using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Authorization policies by the role a caller needs at least (api.md, "Roles"); use them with
/// <c>.RequireAuthorization(FleetPolicies.Operator)</c>.
/// </summary>
public static class FleetPolicies
{
    public const string Reader = nameof(ApiKeyRole.Reader);
    public const string Operator = nameof(ApiKeyRole.Operator);
    public const string Admin = nameof(ApiKeyRole.Admin);

    /// <summary>The role names that satisfy a policy: each role includes the ones below it.</summary>
    internal static string[] RolesFor(ApiKeyRole least) =>
        Enum.GetValues<ApiKeyRole>().Where(role => role >= least).Select(role => role.ToString()).ToArray();
}
