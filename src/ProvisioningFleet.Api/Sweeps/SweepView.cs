using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Sweeps;

namespace ProvisioningFleet.Api.Sweeps;

/// <summary>A sweep as the contract shows it (api.md, "Sweeps"), plus what it was asked for and by whom.</summary>
public sealed record SweepView(
    long Id,
    SweepStatus Status,
    SweepTrigger Trigger,
    bool DryRun,
    string? Tag,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Total,
    int Probed,
    IReadOnlyDictionary<string, int> ByState,
    int Remediated,
    int RemediationsFailed,
    int Skipped,
    int WouldRemediate,
    bool CancelRequested,
    string? Error,
    long RoundTrips)
{
    /// <summary>The sweep with its remediation counters taken from its records (<paramref name="counts"/>), not from its shards' tallies.</summary>
    public static SweepView From(Sweep s, IReadOnlyDictionary<long, SweepRemediationCounts> counts) =>
        From(s, counts.GetValueOrDefault(s.Id) ?? SweepRemediationCounts.None);

    public static async Task<SweepView> ReadAsync(FleetDbContext db, Sweep s, CancellationToken cancellationToken) =>
        From(s, await SweepRemediationCounts.ForAsync(db, [s.Id], cancellationToken));

    private static SweepView From(Sweep s, SweepRemediationCounts counts) => new(
        s.Id, s.Status, s.Trigger, s.DryRun, s.Tag, s.RequestedBy, s.RequestedAt, s.StartedAt, s.FinishedAt, s.Total, s.Probed,
        // Every state is named, zeros included, so that scripts can read a count without checking for the key.
        Enum.GetNames<DeviceState>().ToDictionary(name => name, name => s.ByState.GetValueOrDefault(name)),
        counts.Remediated, counts.RemediationsFailed, counts.Skipped, counts.WouldRemediate, s.CancelRequested, s.Error, s.RoundTrips);
}

/// <summary>The answer to a sweep request (202).</summary>
public sealed record SweepAccepted(long Id, SweepStatus Status);

/// <summary>POST /api/v1/sweeps.</summary>
public sealed record SweepRequest(string? Tag, bool? DryRun);
