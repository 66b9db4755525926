using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Lists;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Core.Remediation;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;

namespace ProvisioningFleet.Api.Fleet;

/// <summary>GET /api/v1/fleet/summary (api.md, "Fleet").</summary>
public sealed record FleetSummary(int Total, IReadOnlyDictionary<string, int> ByState, int Overdue, int RemediatedLast24h, SweepView? LastSweep);

public static class FleetSummaryEndpoints
{
    public const string MaxAgeSetting = "Fleet:Summary:MaxAge";

    /// <summary>
    /// The summary is counted over every device; under many concurrent readers (dashboards, the overview page every
    /// 5 s per open tab) one count serves all requests within <c>Fleet:Summary:MaxAge</c> (default 2 s, zero: every
    /// request counts), so its cost no longer grows with the number of readers.
    /// </summary>
    public static IHostApplicationBuilder AddFleetSummary(this IHostApplicationBuilder builder)
    {
        var maxAge = builder.Configuration.GetValue(MaxAgeSetting, TimeSpan.FromSeconds(2));
        builder.Services.AddSingleton(services => new FleetSummaryCache(
            services.GetRequiredService<IDbContextFactory<FleetDbContext>>(), services.GetRequiredService<TimeProvider>(), maxAge));
        return builder;
    }

    public static IEndpointRouteBuilder MapFleetSummaryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/fleet/summary", SummaryAsync).RequireAuthorization(FleetPolicies.Reader)
            .WithTags("Fleet").WithName("FleetSummary")
            .WithSummary("Devices by state, the Overdue count, fixes in the last 24 hours and the most recently started sweep (at most Fleet:Summary:MaxAge old).");
        return endpoints;
    }

    private static async Task<Ok<FleetSummary>> SummaryAsync(FleetSummaryCache cache, CancellationToken cancellationToken) =>
        TypedResults.Ok(await cache.ReadAsync(cancellationToken));
}

/// <summary>The fleet summary, counted once per <c>Fleet:Summary:MaxAge</c> for every reader (<see cref="SharedReads{TValue}"/>).</summary>
public sealed class FleetSummaryCache(IDbContextFactory<FleetDbContext> contexts, TimeProvider time, TimeSpan maxAge)
{
    private readonly SharedReads<FleetSummary> _reads = new(time, maxAge, maxKeys: 1);

    public Task<FleetSummary> ReadAsync(CancellationToken cancellationToken) => _reads.ReadAsync("", CountAsync, cancellationToken);

    private async Task<FleetSummary> CountAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var counts = await db.Devices.AsNoTracking().GroupBy(d => d.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var byState = Enum.GetValues<DeviceState>().ToDictionary(s => s.ToString(), s => counts.FirstOrDefault(c => c.State == s)?.Count ?? 0);
        var dayAgo = time.GetUtcNow().AddHours(-24);
        var remediated = await db.Remediations.AsNoTracking()
            .CountAsync(r => r.Outcome == RemediationOutcome.Remediated && r.FinishedAt >= dayAgo, cancellationToken);
        var lastSweep = await db.Sweeps.AsNoTracking().Where(s => s.StartedAt != null)
            .OrderByDescending(s => s.StartedAt).ThenByDescending(s => s.Id).FirstOrDefaultAsync(cancellationToken);
        return new FleetSummary(
            counts.Sum(c => c.Count), byState, byState[nameof(DeviceState.Overdue)], remediated, lastSweep is null ? null : await SweepView.ReadAsync(db, lastSweep, cancellationToken));
    }
}
