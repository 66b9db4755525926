using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.AdminService;

/// <summary>
/// A site as real sites are: one active client record per machine, in a collection of workstations,
/// beside what every site accumulates: obsolete records of re-imaged machines, a stale duplicate
/// that is not yet obsolete, non-client records (printers, appliances) and, for a few machines in
/// provisioning mode, a record whose SMSID is not the client that answers under its name (stale DNS).
/// Seeded: the same fleet and seed give the same site.
/// </summary>
public static class SiteScenario
{
    public const string Workstations = "PS100020";

    /// <summary>Populates <paramref name="site"/> from <paramref name="devices"/>; returns the machines whose record names another client.</summary>
    public static IReadOnlyList<SimulatedDevice> Populate(SimulatedSite site, IReadOnlyList<SimulatedDevice> devices, int seed = 1, int identityMismatches = 2)
    {
        var random = new Random(seed);
        site.AddCollection(Workstations, "Workstations");
        var mismatched = devices.Where(d => d.InProvisioningMode && !d.TaskSequenceRunning).Take(identityMismatches).ToHashSet();
        var members = new List<long>(devices.Count + devices.Count / 20);
        foreach (var device in devices)
        {
            var record = site.AddFor(device, r => mismatched.Contains(device) ? r with { SmsId = $"GUID:{Guid.NewGuid().ToString().ToUpperInvariant()}" } : r);
            members.Add(record.ResourceId);
            var draw = random.NextDouble();
            if (draw < 0.02)
            {
                // The record of the machine's previous installation, marked obsolete when the new client registered.
                members.Add(site.Add(record with { ResourceId = site.NextResourceId(), SmsId = $"GUID:{Guid.NewGuid().ToString().ToUpperInvariant()}", IsActive = false, IsObsolete = true }).ResourceId);
            }
            else if (draw < 0.025)
            {
                // Re-imaged recently: the old record is inactive but not yet obsolete.
                members.Add(site.Add(record with { ResourceId = site.NextResourceId(), SmsId = $"GUID:{Guid.NewGuid().ToString().ToUpperInvariant()}", IsActive = false }).ResourceId);
            }
        }

        for (var i = 0; i < Math.Max(1, devices.Count / 200); i++)
        {
            members.Add(site.Add(new SiteRecord
            {
                ResourceId = site.NextResourceId(),
                Name = $"PRN-{i:000}",
                ResourceNames = [$"prn-{i:000}.corp.example"],
                IsClient = false,
                IsActive = false,
            }).ResourceId);
        }

        site.AddMembers(Workstations, members);
        return [.. mismatched];
    }
}
