using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Core.Remediation;

namespace ProvisioningFleet.Data.Sweeps;

/// <summary>
/// A sweep's remediation counters as its records say, not as its shards tallied them: a shard killed or cut
/// off from the database mid-batch never adds its tally, and a record closed later by reconciliation
/// changes the count. Read through the (sweep_id, device_id) unique index.
/// </summary>
public sealed record SweepRemediationCounts(int Remediated, int RemediationsFailed, int Skipped, int WouldRemediate)
{
    public static readonly SweepRemediationCounts None = new(0, 0, 0, 0);

    public static async Task<IReadOnlyDictionary<long, SweepRemediationCounts>> ForAsync(
        FleetDbContext db, IReadOnlyCollection<long> sweepIds, CancellationToken cancellationToken)
    {
        if (sweepIds.Count == 0)
        {
            return new Dictionary<long, SweepRemediationCounts>();
        }

        var rows = await db.Remediations.AsNoTracking()
            .Where(r => r.SweepId != null && sweepIds.Contains(r.SweepId.Value))
            .GroupBy(r => new { SweepId = r.SweepId!.Value, r.Outcome })
            .Select(g => new { g.Key.SweepId, g.Key.Outcome, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.SweepId).ToDictionary(
            sweep => sweep.Key,
            sweep =>
            {
                int Count(RemediationOutcome outcome) => sweep.Where(r => r.Outcome == outcome).Sum(r => r.Count);
                return new SweepRemediationCounts(
                    Count(RemediationOutcome.Remediated), Count(RemediationOutcome.Failed), Count(RemediationOutcome.Skipped), Count(RemediationOutcome.DryRun));
            });
    }
}
