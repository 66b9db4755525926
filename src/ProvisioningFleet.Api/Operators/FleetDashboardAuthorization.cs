using Hangfire.Dashboard;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Operators;

/// <summary>
/// Who may see the Hangfire dashboard and who may act in it. The endpoint's Reader policy already turns
/// anonymous visitors to the sign-in page; this filter is the dashboard's own check of the same rule,
/// so that it stays closed even if the endpoint were mapped without the policy.
/// </summary>
internal sealed class FleetDashboardAuthorization : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => context.GetHttpContext().User.HasRole(ApiKeyRole.Reader);

    /// <summary>Readers see everything but every button (trigger, requeue, delete) is hidden and refused.</summary>
    public static bool IsReadOnly(DashboardContext context) => !context.GetHttpContext().User.HasRole(ApiKeyRole.Operator);
}
