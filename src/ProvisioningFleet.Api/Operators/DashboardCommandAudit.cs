using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Operators;

/// <summary>
/// Audits the dashboard's job actions (trigger, requeue, delete): Hangfire runs them itself, so the dashboard
/// endpoint is wrapped and every command it carried out is recorded with who and which jobs. Hangfire keeps its
/// own tables, so the entry follows the action instead of sharing its transaction.
/// </summary>
internal static class DashboardCommandAudit
{
    public static TBuilder AuditCommands<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var inner = endpoint.RequestDelegate!;
            endpoint.RequestDelegate = async context =>
            {
                var action = HttpMethods.IsPost(context.Request.Method) ? ActionOf(context.Request.Path) : null;
                await inner(context);
                if (action is not null && context.Response.StatusCode is >= 200 and < 300)
                {
                    await RecordAsync(context, action);
                }
            };
        });
        return builder;
    }

    // Hangfire's command URLs: /recurring/trigger, /jobs/failed/requeue, /jobs/actions/delete/{id}, /recurring/remove, ...
    // Its other POSTs (the live statistics) change nothing and are not recorded.
    private static string? ActionOf(PathString path)
    {
        var value = path.Value ?? "";
        return value.Contains("/trigger", StringComparison.OrdinalIgnoreCase) ? "dashboard.trigger"
            : value.Contains("/requeue", StringComparison.OrdinalIgnoreCase) ? "dashboard.requeue"
            : value.Contains("/delete", StringComparison.OrdinalIgnoreCase) || value.Contains("/remove", StringComparison.OrdinalIgnoreCase) ? "dashboard.delete"
            : null;
    }

    private static async Task RecordAsync(HttpContext context, string action)
    {
        // Hangfire has read the form already (it is cached on the request); the job ids are in jobs[] or the path.
        var jobs = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync(context.RequestAborted))["jobs[]"].ToArray() : [];
        var path = $"{context.Request.PathBase}{context.Request.Path}";
        var target = jobs.Length > 0 ? $"job:{string.Join(',', jobs)}" : path;
        var db = context.RequestServices.GetRequiredService<FleetDbContext>();
        context.RequestServices.GetRequiredService<IAuditTrail>().Record(db, context.User, action, target, new { path, jobs });
        await db.SaveChangesAsync(context.RequestAborted);
    }
}
