using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Policy;

public static class PolicyEndpoints
{
    public static IEndpointRouteBuilder MapPolicyEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var policy = endpoints.MapGroup("/api/v1/policy").WithTags("Policy");
        policy.MapGet("/", GetAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithName("GetPolicy").WithSummary("The fleet's remediation policy.");
        policy.MapPut("/", PutAsync).RequireAuthorization(FleetPolicies.Admin)
            .WithName("PutPolicy").WithSummary("Replaces the whole policy (a field left out takes its default); the sweep schedule follows at once.");
        return endpoints;
    }

    private static async Task<Ok<PolicyView>> GetAsync(FleetDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(PolicyView.From(await db.Policies.AsNoTracking().SingleAsync(cancellationToken)));

    private static async Task<Results<Ok<PolicyView>, ValidationProblem>> PutAsync(
        PolicyInput input, HttpContext http, FleetDbContext db, IAuditTrail audit, SweepSchedule schedule, TimeProvider time, CancellationToken cancellationToken)
    {
        var policy = await db.Policies.SingleAsync(cancellationToken);
        var before = PolicyView.From(policy);
        var errors = new ValidationErrors();
        input.ApplyTo(policy, time.GetUtcNow(), errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        policy.UpdatedAt = time.GetUtcNow();
        policy.UpdatedBy = http.User.ActorName();
        audit.Record(db, http.User, "policy.update", "policy", new { before, after = PolicyView.From(policy) });
        await db.SaveChangesAsync(cancellationToken);
        schedule.Apply(policy.SweepCron);
        return TypedResults.Ok(PolicyView.From(policy));
    }
}
