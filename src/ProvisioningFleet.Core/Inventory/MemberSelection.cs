namespace ProvisioningFleet.Core.Inventory;

/// <summary>A member that becomes (or stays) a device: its resource, its DNS name and the identity its client must show.</summary>
public sealed record SelectedMember(long ResourceId, string Name, string Fqdn, string? SmsId);

/// <summary>A member left out, and why (one of the reasons below).</summary>
public sealed record SkippedMember(string Name, long ResourceId, string Reason, string Detail);

/// <summary>
/// The site's rules for which records are machines to manage: obsolete and decommissioned records,
/// non-clients and records without a DNS name are left out; of several records under one name (a
/// re-imaged machine) the single active client wins, and when no single one is active none is taken,
/// because guessing wrong would aim the fleet at another machine.
/// </summary>
public static class MemberSelection
{
    public const string Obsolete = "Obsolete";
    public const string Decommissioned = "Decommissioned";
    public const string NotAClient = "NotAClient";
    public const string Duplicate = "Duplicate";
    public const string NoDnsName = "NoDnsName";

    public static (IReadOnlyList<SelectedMember> Selected, IReadOnlyList<SkippedMember> Skipped) Select(
        IEnumerable<CollectionMember> members, IReadOnlyDictionary<long, SystemRecord> systems)
    {
        var selected = new List<SelectedMember>();
        var skipped = new List<SkippedMember>();
        // A resource in two followed collections is one member.
        var unique = members.GroupBy(m => m.ResourceId).Select(g => g.First()).ToList();

        var candidates = new List<CollectionMember>();
        foreach (var member in unique)
        {
            var name = NameOf(member);
            if (member.IsObsolete == true)
            {
                skipped.Add(new SkippedMember(name, member.ResourceId, Obsolete, "The site marks this record obsolete (replaced by a newer record)."));
            }
            else if (member.IsDecommissioned == true)
            {
                skipped.Add(new SkippedMember(name, member.ResourceId, Decommissioned, "The site marks this record decommissioned."));
            }
            else if (member.IsClient != true)
            {
                skipped.Add(new SkippedMember(name, member.ResourceId, NotAClient, "The site knows no ConfigMgr client on this record."));
            }
            else
            {
                candidates.Add(member);
            }
        }

        var named = new List<(CollectionMember Member, string Fqdn)>();
        foreach (var group in candidates.GroupBy(NameOf, StringComparer.OrdinalIgnoreCase))
        {
            var records = group.ToList();
            var winner = records.Count == 1 ? records[0] : records.Where(m => m.IsActive == true).ToList() is [var onlyActive] ? onlyActive : null;
            foreach (var loser in records.Where(m => !ReferenceEquals(m, winner)))
            {
                skipped.Add(new SkippedMember(NameOf(loser), loser.ResourceId, Duplicate, winner is null
                    ? $"{records.Count} client records are named {group.Key} and not exactly one of them is active; none is taken."
                    : $"{records.Count} client records are named {group.Key}; the active one (ResourceID {winner.ResourceId}) is taken."));
            }

            if (winner is null)
            {
                continue;
            }

            var fqdn = systems.TryGetValue(winner.ResourceId, out var system)
                ? system.ResourceNames?.Select(n => n?.Trim()).FirstOrDefault(n => !string.IsNullOrEmpty(n))
                : null;
            if (fqdn is null)
            {
                skipped.Add(new SkippedMember(NameOf(winner), winner.ResourceId, NoDnsName, "SMS_R_System has no ResourceNames (DNS name) for this record."));
                continue;
            }

            named.Add((winner, fqdn));
        }

        // Two records under different names that resolve to one DNS name cannot both be that host.
        foreach (var group in named.GroupBy(n => n.Fqdn, StringComparer.OrdinalIgnoreCase))
        {
            if (group.Count() > 1)
            {
                skipped.AddRange(group.Select(n => new SkippedMember(NameOf(n.Member), n.Member.ResourceId, Duplicate,
                    $"{group.Count()} client records share the DNS name {group.Key}; none is taken.")));
                continue;
            }

            var (member, name) = group.Single();
            var smsId = member.SmsId ?? (systems.TryGetValue(member.ResourceId, out var system) ? system.SmsUniqueIdentifier : null);
            selected.Add(new SelectedMember(member.ResourceId, NameOf(member), name, string.IsNullOrWhiteSpace(smsId) ? null : smsId.Trim()));
        }

        return (selected, skipped);
    }

    private static string NameOf(CollectionMember member) =>
        string.IsNullOrWhiteSpace(member.Name) ? $"ResourceID {member.ResourceId}" : member.Name.Trim();
}
