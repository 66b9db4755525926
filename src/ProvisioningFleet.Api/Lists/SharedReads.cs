using System.Collections.Concurrent;

namespace ProvisioningFleet.Api.Lists;

/// <summary>
/// One read serves every reader of the same key for <c>maxAge</c>: under many concurrent readers (dashboards, scripts
/// polling the same page) the database does the work once per key and age, whatever the number of readers. At most one
/// read per key is in flight; a failed read is not kept. Past its age a value is still served (for at most
/// <see cref="StaleGrace"/> more) while the next is read in the background: otherwise every reader of a popular page would
/// queue behind each refresh once per age, and that queue, not the read, would be the slowest requests' latency. So a
/// read must not use the request's services (it gets no request token either): it opens its own database context.
/// <see cref="Invalidate"/> (after a write through the API) voids every kept value at once, so a caller reads its own
/// writes (readers then wait for the read). A zero <c>maxAge</c> reads every time. Keys are bounded: past <c>maxKeys</c>
/// the kept values are dropped, so hostile unique queries cost memory only up to that bound.
/// </summary>
public sealed class SharedReads<TValue>(TimeProvider time, TimeSpan maxAge, int maxKeys = 256)
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private long _generation;

    /// <summary>How long past its age a value may still be served while its next read is in flight.</summary>
    public static readonly TimeSpan StaleGrace = TimeSpan.FromSeconds(5);

    public TimeSpan MaxAge { get; } = maxAge < TimeSpan.Zero ? TimeSpan.Zero : maxAge;

    public async Task<TValue> ReadAsync(string key, Func<CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        if (MaxAge == TimeSpan.Zero)
        {
            return await read(cancellationToken);
        }

        if (!_slots.TryGetValue(key, out var slot))
        {
            if (_slots.Count >= maxKeys)
            {
                _slots.Clear();
            }

            slot = _slots.GetOrAdd(key, _ => new Slot());
        }

        if (Usable(slot, MaxAge) is { } fresh)
        {
            return fresh.Value;
        }

        if (Usable(slot, MaxAge + StaleGrace) is { } stale)
        {
            if (slot.Reading.Wait(0))
            {
                _ = RefreshAsync(slot, read);
            }

            return stale.Value;
        }

        await slot.Reading.WaitAsync(cancellationToken);
        try
        {
            if (Usable(slot, MaxAge) is { } readMeanwhile)
            {
                return readMeanwhile.Value;
            }

            return await ReadIntoAsync(slot, read, cancellationToken);
        }
        finally
        {
            slot.Reading.Release();
        }
    }

    private async Task RefreshAsync(Slot slot, Func<CancellationToken, Task<TValue>> read)
    {
        try
        {
            // Off the request: its reader has its answer already, and the request's end must not cancel the next one's.
            await Task.Yield();
            await ReadIntoAsync(slot, read, CancellationToken.None);
        }
        catch (Exception)
        {
            // Not kept: the next reader past the grace reads again and sees the failure itself.
        }
        finally
        {
            slot.Reading.Release();
        }
    }

    private async Task<TValue> ReadIntoAsync(Slot slot, Func<CancellationToken, Task<TValue>> read, CancellationToken cancellationToken)
    {
        var generation = Interlocked.Read(ref _generation);
        var at = time.GetUtcNow();
        var value = await read(cancellationToken);
        slot.Last = new Kept(at, generation, value);
        return value;
    }

    /// <summary>Every kept value is stale from now on.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    private Kept? Usable(Slot slot, TimeSpan age) =>
        slot.Last is { } last && last.Generation == Interlocked.Read(ref _generation) && time.GetUtcNow() - last.At <= age ? last : null;

    private sealed record Kept(DateTimeOffset At, long Generation, TValue Value);

    private sealed class Slot
    {
        public SemaphoreSlim Reading { get; } = new(1, 1);

        public Kept? Last { get; set; }
    }
}
