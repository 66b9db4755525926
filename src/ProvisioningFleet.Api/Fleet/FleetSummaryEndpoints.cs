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
            services.GetRequiredService<IDbContextFactory<FleetDbContext>>(), services.GetRequiredService<TimeProvider>(), maxAge < TimeSpan.Zero ? TimeSpan.Zero : maxAge));
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

/// <summary>
/// The last summary counted, and at most one count in flight: a request finds it fresh, or waits for the one count
/// that refreshes it for everybody. Never older than the max age (a failed count is not kept), unlike a timer that
/// keeps counting with nobody reading.
/// </summary>
public sealed class FleetSummaryCache(IDbContextFactory<FleetDbContext> contexts, TimeProvider time, TimeSpan maxAge)
{
    private readonly SemaphoreSlim _counting = new(1, 1);
    private (DateTimeOffset At, FleetSummary Summary)? _last;

    public async Task<FleetSummary> ReadAsync(CancellationToken cancellationToken)
    {
        if (maxAge == TimeSpan.Zero)
        {
            return await CountAsync(cancellationToken);
        }

        if (Fresh() is { } fresh)
        {
            return fresh;
        }

        await _counting.WaitAsync(cancellationToken);
        try
        {
            if (Fresh() is { } counted)
            {
                return counted;
            }

            var at = time.GetUtcNow();
            var summary = await CountAsync(cancellationToken);
            _last = (at, summary);
            return summary;
        }
        finally
        {
            _counting.Release();
        }
    }

    private FleetSummary? Fresh() => _last is { } last && time.GetUtcNow() - last.At <= maxAge ? last.Summary : null;

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
