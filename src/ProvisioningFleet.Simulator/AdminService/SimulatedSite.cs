using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.AdminService;

/// <summary>
/// A site's record of one machine, as <c>SMS_R_System</c> and <c>SMS_FullCollectionMembership</c> show it.
/// Real sites keep obsolete records and duplicates (a re-imaged machine under the same name) beside the live one.
/// </summary>
public sealed record SiteRecord
{
    public required long ResourceId { get; init; }

    /// <summary>The NetBIOS name.</summary>
    public required string Name { get; init; }

    public string Domain { get; init; } = "CORP";

    /// <summary>DNS names; the first is the FQDN the service reaches the machine by.</summary>
    public IReadOnlyList<string> ResourceNames { get; init; } = [];

    /// <summary>The client identity the site holds for this record (<c>GUID:...</c>).</summary>
    public string? SmsId { get; init; }

    public bool IsClient { get; init; } = true;
    public bool IsActive { get; init; } = true;
    public bool IsObsolete { get; init; }
    public bool IsDecommissioned { get; init; }
    public string ClientVersion { get; init; } = "5.00.9132.1000";
}

/// <summary>
/// The ConfigMgr site behind the simulator's AdminService: records, collections and who may read them.
/// Thread-safe; tests and the demo change it while the service syncs.
/// </summary>
public sealed class SimulatedSite
{
    /// <summary>ConfigMgr's built-in collection of every system.</summary>
    public const string AllSystems = "SMS00001";

    private readonly Lock _gate = new();
    private readonly Dictionary<long, SiteRecord> _records = [];
    private readonly Dictionary<string, (string Name, HashSet<long> Members)> _collections = new(StringComparer.OrdinalIgnoreCase);
    private long _nextResourceId = 16777220;
    private int _requests;

    public SimulatedSite()
    {
        _collections[AllSystems] = ("All Systems", []);
    }

    public string SiteCode { get; init; } = "PS1";

    /// <summary>Users (as <c>user</c> or <c>DOMAIN\user</c>) who may read; others get 403. Null: every authenticated user.</summary>
    public IReadOnlySet<string>? Readers { get; set; }

    /// <summary>Rows per page before an <c>@odata.nextLink</c>; the real service's paging is configurable too.</summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>Requests for this WMI class answer HTTP 500 (a provider failing in the middle of a sync).</summary>
    public string? FailingClass { get; set; }

    /// <summary>AdminService requests answered (authentication legs not counted).</summary>
    public int Requests => Volatile.Read(ref _requests);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    /// <summary>Adds (or replaces) a record and puts it in All Systems.</summary>
    public SiteRecord Add(SiteRecord record)
    {
        lock (_gate)
        {
            _records[record.ResourceId] = record;
            _collections[AllSystems].Members.Add(record.ResourceId);
            _nextResourceId = Math.Max(_nextResourceId, record.ResourceId + 1);
            return record;
        }
    }

    /// <summary>A new active client record for a simulated device: its FQDN, its NetBIOS name and its client's own identity.</summary>
    public SiteRecord AddFor(SimulatedDevice device, Func<SiteRecord, SiteRecord>? adjust = null)
    {
        var record = new SiteRecord
        {
            ResourceId = NextResourceId(),
            Name = NetBiosName(device.HostName),
            ResourceNames = [device.HostName],
            SmsId = device.ClientId,
        };
        return Add(adjust is null ? record : adjust(record));
    }

    public long NextResourceId()
    {
        lock (_gate)
        {
            return _nextResourceId++;
        }
    }

    public SiteRecord? Find(long resourceId)
    {
        lock (_gate)
        {
            return _records.GetValueOrDefault(resourceId);
        }
    }

    /// <summary>Changes a record in place (a rename, a re-imaged client's new SMSID, marking it obsolete).</summary>
    public SiteRecord Update(long resourceId, Func<SiteRecord, SiteRecord> change)
    {
        lock (_gate)
        {
            var updated = change(_records[resourceId]) with { ResourceId = resourceId };
            _records[resourceId] = updated;
            return updated;
        }
    }

    public void AddCollection(string collectionId, string name)
    {
        lock (_gate)
        {
            if (!_collections.ContainsKey(collectionId))
            {
                _collections[collectionId] = (name, []);
            }
        }
    }

    public void AddMembers(string collectionId, params IEnumerable<long> resourceIds)
    {
        lock (_gate)
        {
            _collections[collectionId].Members.UnionWith(resourceIds);
        }
    }

    public void RemoveMembers(string collectionId, params IEnumerable<long> resourceIds)
    {
        lock (_gate)
        {
            _collections[collectionId].Members.ExceptWith(resourceIds);
        }
    }

    /// <summary>The NetBIOS name Windows derives from a host name: the first label, upper case, at most 15 characters.</summary>
    public static string NetBiosName(string hostName)
    {
        var label = hostName.Split('.')[0].ToUpperInvariant();
        return label.Length <= 15 ? label : label[..15];
    }

    internal IReadOnlyList<(string Id, string Name, int Count)> Collections()
    {
        lock (_gate)
        {
            return [.. _collections.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value.Name, c.Value.Members.Count))];
        }
    }

    /// <summary>Memberships of the given collections (all collections when null), in collection and resource order.</summary>
    internal IReadOnlyList<(string CollectionId, SiteRecord Record)> Memberships(IReadOnlyCollection<string>? collectionIds)
    {
        lock (_gate)
        {
            return [.. _collections
                .Where(c => collectionIds is null || collectionIds.Contains(c.Key, StringComparer.OrdinalIgnoreCase))
                .OrderBy(c => c.Key, StringComparer.Ordinal)
                .SelectMany(c => c.Value.Members.Order().Where(_records.ContainsKey).Select(id => (c.Key, _records[id])))];
        }
    }

    /// <summary>The given records (all when null), in resource order.</summary>
    internal IReadOnlyList<SiteRecord> Records(IReadOnlyCollection<long>? resourceIds)
    {
        lock (_gate)
        {
            return resourceIds is null
                ? [.. _records.Values.OrderBy(r => r.ResourceId)]
                : [.. resourceIds.Distinct().Order().Where(_records.ContainsKey).Select(id => _records[id])];
        }
    }
}
