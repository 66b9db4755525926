using System.Security.Cryptography;
using System.Text;
using ProvisioningFleet.WsMan;

namespace ProvisioningFleet.Core.Cim.WsMan;

/// <summary>
/// One authenticated <see cref="WsManClient"/> per endpoint, authentication and credential, so an
/// NTLM session (and its connection) is reused across probes of the same device. Leased entries are
/// never closed; idle ones wait in least-recently-used order, and past the idle cap, or the idle
/// timeout, the oldest close. Every step is O(1) under one lock: a sweep makes a new entry per device,
/// thousands a second, and an idle session is garbage the GC would otherwise carry from generation to
/// generation (its handler, connection, socket and timer) for as long as the pool keeps it.
/// </summary>
internal sealed class WsManSessionPool(
    Func<WsManClientOptions, WsManClient> create, TimeProvider time, TimeSpan idleTimeout, int maxIdle) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<PoolKey, Entry> _entries = [];
    private readonly LinkedList<Entry> _idle = [];

    /// <summary>Leased and idle entries together.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public Lease Rent(WsManClientOptions options)
    {
        var key = PoolKey.For(options);
        Entry entry;
        List<Entry>? expired;
        lock (_gate)
        {
            expired = TakeExpired(time.GetUtcNow());
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry(key, create, options);
                _entries.Add(key, entry);
            }
            else if (entry.IdleNode is not null)
            {
                Unlink(entry);
            }

            entry.Leases++;
        }

        Close(expired);
        try
        {
            _ = entry.Client;
        }
        catch
        {
            // Options that can never work are not kept: the next caller gets the same answer afresh.
            lock (_gate)
            {
                entry.Leases--;
                if (_entries.TryGetValue(key, out var current) && current == entry)
                {
                    _entries.Remove(key);
                }
            }

            throw;
        }

        return new Lease(this, entry);
    }

    private void Return(Entry entry)
    {
        Entry? evicted = null;
        lock (_gate)
        {
            entry.Leases--;
            if (entry.Leases > 0 || !_entries.TryGetValue(entry.Key, out var current) || current != entry)
            {
                return;
            }

            entry.IdleSince = time.GetUtcNow();
            entry.IdleNode = _idle.AddLast(entry);
            if (_idle.Count > maxIdle && _idle.First is { } oldest)
            {
                evicted = oldest.Value;
                Forget(evicted);
            }
        }

        if (evicted is not null)
        {
            Close(evicted);
        }
    }

    /// <summary>Idle entries past the timeout, oldest first; called under the lock.</summary>
    private List<Entry>? TakeExpired(DateTimeOffset now)
    {
        List<Entry>? expired = null;
        while (_idle.First is { } oldest && now - oldest.Value.IdleSince >= idleTimeout)
        {
            (expired ??= []).Add(oldest.Value);
            Forget(oldest.Value);
        }

        return expired;
    }

    /// <summary>Takes an idle entry out of the idle order (it is leased again, or leaves the pool); under the lock.</summary>
    private void Unlink(Entry entry)
    {
        _idle.Remove(entry.IdleNode!);
        entry.IdleNode = null;
    }

    private void Forget(Entry entry)
    {
        Unlink(entry);
        _entries.Remove(entry.Key);
    }

    private static void Close(List<Entry>? entries)
    {
        if (entries is null)
        {
            return;
        }

        foreach (var entry in entries)
        {
            Close(entry);
        }
    }

    private static void Close(Entry entry)
    {
        if (entry.IsCreated)
        {
            _ = entry.Client.DisposeAsync().AsTask();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Entry[] entries;
        lock (_gate)
        {
            entries = [.. _entries.Values];
            _entries.Clear();
            _idle.Clear();
        }

        foreach (var entry in entries)
        {
            if (entry.IsCreated)
            {
                await entry.Client.DisposeAsync();
            }
        }
    }

    /// <summary>The password enters the key only as a hash, so rotation opens a new session and memory holds no extra copy.</summary>
    internal sealed record PoolKey(Uri Endpoint, WsManAuthentication Authentication, string? ServicePrincipalName, string? UserName, string? Domain, string? PasswordHash)
    {
        public static PoolKey For(WsManClientOptions options) => new(
            options.Endpoint,
            options.Authentication,
            options.ServicePrincipalName,
            options.Credential?.UserName.ToUpperInvariant(),
            options.Credential?.Domain?.ToUpperInvariant(),
            options.Credential is { } c ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(c.Password))) : null);
    }

    /// <summary>An entry's bookkeeping (leases, idle place) is guarded by the pool's lock.</summary>
    internal sealed class Entry(PoolKey key, Func<WsManClientOptions, WsManClient> create, WsManClientOptions options)
    {
        private readonly Lazy<WsManClient> _client = new(() => create(options), LazyThreadSafetyMode.ExecutionAndPublication);

        public PoolKey Key { get; } = key;

        public WsManClient Client => _client.Value;

        public bool IsCreated => _client.IsValueCreated;

        public int Leases { get; set; }

        public DateTimeOffset IdleSince { get; set; }

        public LinkedListNode<Entry>? IdleNode { get; set; }
    }

    internal sealed class Lease(WsManSessionPool pool, Entry entry) : IDisposable
    {
        private int _released;

        public WsManClient Client => entry.Client;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                pool.Return(entry);
            }
        }
    }
}
