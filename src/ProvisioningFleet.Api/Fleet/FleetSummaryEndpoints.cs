using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Fleet;

/// <summary>GET /api/v1/fleet/summary (api.md, "Fleet").</summary>
public sealed record FleetSummary(int Total, IReadOnlyDictionary<string, int> ByState, int Overdue, int RemediatedLast24h, SweepView? LastSweep);

public static class FleetSummaryEndpoints
{
    public static IEndpointRouteBuilder MapFleetSummaryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/fleet/summary", SummaryAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithTags("Fleet").WithName("FleetSummary")
            .WithSummary("Devices by state, the Overdue count, fixes in the last 24 hours and the most recently started sweep.");
        return endpoints;
    }

    private static async Task<Ok<FleetSummary>> SummaryAsync(FleetDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var counts = await db.Devices.AsNoTracking().GroupBy(d => d.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var byState = Enum.GetValues<DeviceState>().ToDictionary(s => s.ToString(), s => counts.FirstOrDefault(c => c.State == s)?.Count ?? 0);
        var dayAgo = time.GetUtcNow().AddHours(-24);
        var remediated = await db.Remediations.AsNoTracking()
            .CountAsync(r => r.Outcome == RemediationOutcome.Remediated && r.FinishedAt >= dayAgo, cancellationToken);
        var lastSweep = await db.Sweeps.AsNoTracking().Where(s => s.StartedAt != null)
            .OrderByDescending(s => s.StartedAt).ThenByDescending(s => s.Id).FirstOrDefaultAsync(cancellationToken);
        return TypedResults.Ok(new FleetSummary(
            counts.Sum(c => c.Count), byState, byState[nameof(DeviceState.Overdue)], remediated, lastSweep is null ? null : await SweepView.ReadAsync(db, lastSweep, cancellationToken)));
    }
}
