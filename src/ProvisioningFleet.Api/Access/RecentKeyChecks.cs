using System.Collections.Concurrent;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Successful key checks kept for <c>Fleet:ApiKeys:CheckMaxAge</c> (default 10 s, zero: the database on every request):
/// a script or dashboard calling many times a second costs one database lookup per age, not one per request. A revoke
/// through this instance forgets every kept check at once (a check read before the revoke and finished after it is not
/// kept); another instance stops accepting the revoked key within the age. Only the HMAC of a presented key is kept,
/// never the key, and only keys that were found; past <c>maxEntries</c> everything kept is dropped, so made-up keys
/// cost nothing here.
/// </summary>
public sealed class RecentKeyChecks(TimeProvider time, TimeSpan maxAge, int maxEntries = 4096)
{
    public const string MaxAgeSetting = "Fleet:ApiKeys:CheckMaxAge";

    private readonly ConcurrentDictionary<string, Kept<ApiKey>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(long Id, ApiKeyRole Role), Kept<bool>> _sessions = new();
    private long _generation;

    public TimeSpan MaxAge { get; } = maxAge < TimeSpan.Zero ? TimeSpan.Zero : maxAge;

    /// <summary>The generation a lookup starts in; pass it back to <see cref="Remember"/> so a revoke in between wins.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public ApiKey? Find(byte[] keyHash) =>
        MaxAge > TimeSpan.Zero && _keys.TryGetValue(Convert.ToBase64String(keyHash), out var kept) && IsFresh(kept) ? kept.Value : null;

    public void Remember(byte[] keyHash, ApiKey key, long generation) => Keep(_keys, Convert.ToBase64String(keyHash), key, generation);

    /// <summary>Whether a sign-in session's key was seen active within the age.</summary>
    public bool IsActive(long id, ApiKeyRole role) =>
        MaxAge > TimeSpan.Zero && _sessions.TryGetValue((id, role), out var kept) && IsFresh(kept);

    public void RememberActive(long id, ApiKeyRole role, long generation) => Keep(_sessions, (id, role), true, generation);

    /// <summary>Every kept check is void from now on (a key was revoked).</summary>
    public void Forget() => Interlocked.Increment(ref _generation);

    private void Keep<TKey, TValue>(ConcurrentDictionary<TKey, Kept<TValue>> kept, TKey key, TValue value, long generation)
        where TKey : notnull
    {
        if (MaxAge == TimeSpan.Zero || generation != Generation)
        {
            return;
        }

        if (kept.Count >= maxEntries)
        {
            kept.Clear();
        }

        kept[key] = new Kept<TValue>(time.GetUtcNow(), generation, value);
    }

    private bool IsFresh<TValue>(Kept<TValue> kept) => kept.Generation == Generation && time.GetUtcNow() - kept.At <= MaxAge;

    private sealed record Kept<TValue>(DateTimeOffset At, long Generation, TValue Value);
}
