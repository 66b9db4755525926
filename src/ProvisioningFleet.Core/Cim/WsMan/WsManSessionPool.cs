using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ProvisioningFleet.WsMan;

namespace ProvisioningFleet.Core.Cim.WsMan;

/// <summary>
/// One authenticated <see cref="WsManClient"/> per endpoint, authentication and credential, so an
/// NTLM session (and its connection) is reused across probes of the same device. Entries idle longer
/// than the settings allow, and no longer leased, are closed; past the size cap the least recently
/// used idle entries close at once.
/// </summary>
internal sealed class WsManSessionPool(
    Func<WsManClientOptions, WsManClient> create, TimeProvider time, TimeSpan idleTimeout, int maxEntries) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<PoolKey, Entry> _entries = new();
    private long _lastTrimTicks;
    private int _trimming;

    public int Count => _entries.Count;

    public Lease Rent(WsManClientOptions options)
    {
        TrimIdle();
        var key = PoolKey.For(options);
        while (true)
        {
            var entry = _entries.GetOrAdd(key, static (_, state) => new Entry(state.create, state.options), (create, options));
            if (entry.TryAcquire(time.GetUtcNow()))
            {
                try
                {
                    _ = entry.Client;
                }
                catch
                {
                    // Options that can never work are not kept: the next caller gets the same answer afresh.
                    entry.Release(time.GetUtcNow());
                    _entries.TryRemove(new KeyValuePair<PoolKey, Entry>(key, entry));
                    throw;
                }

                TrimIfOverCap();
                return new Lease(this, entry);
            }

            // Lost a race with eviction: that entry is closing, make a fresh one.
            _entries.TryRemove(new KeyValuePair<PoolKey, Entry>(key, entry));
        }
    }

    private void TrimIdle()
    {
        var now = time.GetUtcNow();
        var last = Interlocked.Read(ref _lastTrimTicks);
        if (now.UtcTicks - last < TimeSpan.FromSeconds(30).Ticks || Interlocked.CompareExchange(ref _lastTrimTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        foreach (var (key, entry) in _entries)
        {
            if (entry.TryRetire(now - idleTimeout) && _entries.TryRemove(new KeyValuePair<PoolKey, Entry>(key, entry)))
            {
                _ = entry.Client.DisposeAsync().AsTask();
            }
        }
    }

    private void Return(Entry entry)
    {
        entry.Release(time.GetUtcNow());
        TrimIfOverCap();
    }

    private void TrimIfOverCap()
    {
        if (_entries.Count > maxEntries)
        {
            TrimToSize();
        }
    }

    /// <summary>
    /// Closes idle entries, least recently used first, until the pool is an eighth under its cap; leased
    /// entries stay. The margin matters in a sweep, where every device is a new entry: trimming to the cap
    /// itself would sort the whole pool again for every device. One caller trims at a time and the others
    /// go on with their lease, so the trimmer passes again while the pool is over its cap and a pass
    /// closed something: entries added or released during a pass would otherwise wait for the next
    /// caller, and there may be none (a release trims too, for the same reason). Each pass sorts a
    /// snapshot: LINQ over the live dictionary copies it while other callers add and remove entries.
    /// </summary>
    private void TrimToSize()
    {
        if (Interlocked.CompareExchange(ref _trimming, 1, 0) != 0)
        {
            return;
        }

        try
        {
            while (_entries.Count > maxEntries && TrimPass() > 0)
            {
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    private int TrimPass()
    {
        var now = time.GetUtcNow();
        var target = maxEntries - maxEntries / 8;
        var closed = 0;
        foreach (var (key, entry) in _entries.ToArray().OrderBy(e => e.Value.LastUsed))
        {
            if (_entries.Count <= target)
            {
                break;
            }

            if (entry.TryRetire(now) && _entries.TryRemove(new KeyValuePair<PoolKey, Entry>(key, entry)))
            {
                _ = entry.Client.DisposeAsync().AsTask();
                closed++;
            }
        }

        return closed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var entry in _entries.Values)
        {
            if (entry.IsCreated)
            {
                await entry.Client.DisposeAsync();
            }
        }

        _entries.Clear();
    }

    /// <summary>The password enters the key only as a hash, so rotation opens a new session and memory holds no extra copy.</summary>
    private sealed record PoolKey(Uri Endpoint, WsManAuthentication Authentication, string? ServicePrincipalName, string? UserName, string? Domain, string? PasswordHash)
    {
        public static PoolKey For(WsManClientOptions options) => new(
            options.Endpoint,
            options.Authentication,
            options.ServicePrincipalName,
            options.Credential?.UserName.ToUpperInvariant(),
            options.Credential?.Domain?.ToUpperInvariant(),
            options.Credential is { } c ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(c.Password))) : null);
    }

    internal sealed class Entry
    {
        private readonly Lazy<WsManClient> _client;
        private readonly Lock _gate = new();
        private int _leases;
        private bool _retired;
        private DateTimeOffset _lastUsed;

        public Entry(Func<WsManClientOptions, WsManClient> create, WsManClientOptions options) =>
            _client = new Lazy<WsManClient>(() => create(options), LazyThreadSafetyMode.ExecutionAndPublication);

        public WsManClient Client => _client.Value;

        public bool IsCreated => _client.IsValueCreated;

        public DateTimeOffset LastUsed
        {
            get
            {
                lock (_gate)
                {
                    return _lastUsed;
                }
            }
        }

        public bool TryAcquire(DateTimeOffset now)
        {
            lock (_gate)
            {
                if (_retired)
                {
                    return false;
                }

                _leases++;
                _lastUsed = now;
                return true;
            }
        }

        public void Release(DateTimeOffset now)
        {
            lock (_gate)
            {
                _leases--;
                _lastUsed = now;
            }
        }

        public bool TryRetire(DateTimeOffset idleSince)
        {
            lock (_gate)
            {
                if (_leases > 0 || _lastUsed > idleSince || !_client.IsValueCreated)
                {
                    return false;
                }

                _retired = true;
                return true;
            }
        }
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
