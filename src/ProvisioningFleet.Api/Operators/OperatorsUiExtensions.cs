using Hangfire;
using ProvisioningFleet.Api.Access;

namespace ProvisioningFleet.Api.Operators;

public static class OperatorsUiExtensions
{
    public const string DashboardPath = "/hangfire";
    public const string OverviewPath = "/ui/overview.html";

    /// <summary>
    /// The people's side of the host: the fleet overview and device pages (static files under
    /// wwwroot/ui that call the REST API), and the Hangfire dashboard. Both need a signed-in Reader;
    /// a browser without a session is sent to the sign-in page. Anti-forgery is on in the dashboard
    /// because the host registers IAntiforgery, which Hangfire checks on every dashboard POST.
    /// </summary>
    public static IEndpointRouteBuilder MapOperatorsUi(this IEndpointRouteBuilder endpoints)
    {
        var files = new OperatorsUiFiles();
        endpoints.MapGet("/ui/{**path}", (string path, HttpContext context) => files.Serve(path, context))
            .RequireAuthorization(FleetPolicies.Reader)
            .ExcludeFromDescription();
        endpoints.MapGet("/", () => TypedResults.Redirect(OverviewPath))
            .RequireAuthorization(FleetPolicies.Reader)
            .ExcludeFromDescription();

        endpoints.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [new FleetDashboardAuthorization()],
            IsReadOnlyFunc = FleetDashboardAuthorization.IsReadOnly,
            AppPath = OverviewPath,
            DashboardTitle = "ProvisioningFleet jobs",
            DisplayStorageConnectionString = false,
        })
            .RequireAuthorization(FleetPolicies.Reader)
            .AuditCommands();
        return endpoints;
    }
}
