using System.Collections.Concurrent;

namespace ProvisioningFleet.Simulator.Protocol;

/// <summary>
/// Open WS-Enumeration contexts: the items not yet pulled, serialised, for one device. A context
/// left behind by a client that never pulls or releases expires.
/// </summary>
internal sealed class EnumerationContexts(TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, Pending> _open = new();

    private sealed class Pending(string hostName, Queue<string> items, DateTimeOffset expires)
    {
        public string HostName { get; } = hostName;
        public Queue<string> Items { get; } = items;
        public DateTimeOffset Expires { get; } = expires;
    }

    public string Open(string hostName, IEnumerable<string> items)
    {
        if (_open.Count > SweepThreshold)
        {
            var now = time.GetUtcNow();
            foreach (var (key, pending) in _open)
            {
                if (pending.Expires < now)
                {
                    _open.TryRemove(key, out _);
                }
            }
        }
        var id = "uuid:" + Guid.NewGuid().ToString().ToUpperInvariant();
        _open[id] = new Pending(hostName, new Queue<string>(items), time.GetUtcNow() + Lifetime);
        return id;
    }

    /// <summary>Takes up to <paramref name="max"/> items; the context closes when it runs dry.</summary>
    public (IReadOnlyList<string> Items, bool EndOfSequence) Pull(string hostName, string context, int max)
    {
        if (!_open.TryGetValue(context, out var pending)
            || !string.Equals(pending.HostName, hostName, StringComparison.OrdinalIgnoreCase)
            || pending.Expires < time.GetUtcNow())
        {
            throw WsManFaults.InvalidEnumerationContext();
        }
        lock (pending)
        {
            var items = new List<string>(Math.Min(max, pending.Items.Count));
            while (items.Count < max && pending.Items.TryDequeue(out var item))
            {
                items.Add(item);
            }
            var end = pending.Items.Count == 0;
            if (end)
            {
                _open.TryRemove(context, out _);
            }
            return (items, end);
        }
    }

    public void Release(string hostName, string context)
    {
        if (!_open.TryGetValue(context, out var pending) || !string.Equals(pending.HostName, hostName, StringComparison.OrdinalIgnoreCase))
        {
            throw WsManFaults.InvalidEnumerationContext();
        }
        _open.TryRemove(context, out _);
    }
}
