using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Issues and checks API keys. An issued key is <c>pfk_</c>, a random 8-character id (stored, to find
/// the row) and 32 random bytes; only an HMAC of the whole key is stored (<see cref="ApiKeyHasher"/>).
/// Rows from before keyed hashing (plain SHA-256) still work and are rehashed on their first use.
/// </summary>
public sealed class ApiKeyStore(FleetDbContext db, TimeProvider time, ApiKeyHasher hasher, RecentKeyChecks recent)
{
    private const string KeyPrefix = "pfk_";
    private const int PrefixLength = 12;
    private const string BootstrapName = "FLEET_ADMIN_API_KEY";

    // Recording every use would turn each read into a write; a minute's precision is enough to see idle keys.
    private static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    /// <summary>Adds a new key to the context (saved with the caller's SaveChanges, with its audit entry).</summary>
    public (ApiKey Key, string Secret) Issue(string name, ApiKeyRole role)
    {
        var secret = NewSecret();
        var key = NewRow(name, role, secret, PrefixOf(secret));
        db.ApiKeys.Add(key);
        return (key, secret);
    }

    /// <summary>A new key: the prefix, a non-secret id of 6 random bytes, then 32 random bytes.</summary>
    public static string NewSecret() =>
        KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(6)) + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The active key with this value, or null; notes when it was last used (to the minute, and a check kept by
    /// <see cref="RecentKeyChecks"/> is younger than that).
    /// </summary>
    public async Task<ApiKey?> FindActiveAsync(string presented, CancellationToken cancellationToken)
    {
        if (presented.Length is 0 or > 512)
        {
            return null;
        }

        var keyHash = hasher.Hash(presented);
        if (recent.Find(keyHash) is { } kept)
        {
            return kept;
        }

        var generation = recent.Generation;
        var prefix = PrefixOf(presented);
        var candidates = await db.ApiKeys.AsNoTracking()
            .Where(key => (key.Prefix == prefix || key.Prefix == "") && key.RevokedAt == null)
            .ToListAsync(cancellationToken);
        var match = candidates.FirstOrDefault(key => Matches(key, presented, keyHash));
        if (match is null)
        {
            return null;
        }

        if (match.HashKeyId is null)
        {
            await RehashAsync(match, presented, cancellationToken);
        }

        var now = time.GetUtcNow();
        if (match.LastUsedAt is null || now - match.LastUsedAt >= LastUsedPrecision)
        {
            await db.ApiKeys.Where(key => key.Id == match.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(key => key.LastUsedAt, now), cancellationToken);
        }

        recent.Remember(keyHash, match, generation);
        return match;
    }

    public async Task<bool> IsActiveAsync(long id, ApiKeyRole role, CancellationToken cancellationToken)
    {
        if (recent.IsActive(id, role))
        {
            return true;
        }

        var generation = recent.Generation;
        var active = await db.ApiKeys.AnyAsync(key => key.Id == id && key.Role == role && key.RevokedAt == null, cancellationToken);
        if (active)
        {
            recent.RememberActive(id, role, generation);
        }

        return active;
    }

    /// <summary>
    /// Makes <paramref name="secret"/> an active Admin key (FLEET_ADMIN_API_KEY). Bootstrap keys from
    /// earlier values of the setting are revoked, so that changing the setting rotates the key.
    /// </summary>
    public async Task EnsureBootstrapAdminAsync(string secret, CancellationToken cancellationToken)
    {
        var bootstrapKeys = await db.ApiKeys.Where(key => key.Name == BootstrapName && key.RevokedAt == null).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var secretHash = hasher.Hash(secret);
        foreach (var key in bootstrapKeys)
        {
            if (!Matches(key, secret, secretHash))
            {
                key.RevokedAt = now;
            }
            else if (key.HashKeyId is null)
            {
                Rehash(key, secret);
            }
        }

        if (!bootstrapKeys.Any(key => key.RevokedAt is null))
        {
            // No prefix: the operator chose this value, and none of it is stored in clear.
            db.ApiKeys.Add(NewRow(BootstrapName, ApiKeyRole.Admin, secret, prefix: ""));
        }

        await db.SaveChangesAsync(cancellationToken);
        recent.Forget();
    }

    /// <summary>Whether <paramref name="presented"/> is this row's key; <paramref name="keyHash"/> is its HMAC, computed once per check.</summary>
    private bool Matches(ApiKey key, string presented, byte[] keyHash) =>
        key.HashKeyId == hasher.KeyId ? CryptographicOperations.FixedTimeEquals(key.Hash, keyHash)
        : key.HashKeyId is null && CryptographicOperations.FixedTimeEquals(key.Hash, ApiKeyHasher.LegacyHash(presented));

    private void Rehash(ApiKey key, string presented)
    {
        key.Hash = hasher.Hash(presented);
        key.HashKeyId = hasher.KeyId;
        if (key.Name == BootstrapName)
        {
            key.Prefix = "";
        }
    }

    private async Task RehashAsync(ApiKey key, string presented, CancellationToken cancellationToken)
    {
        Rehash(key, presented);
        await db.ApiKeys.Where(row => row.Id == key.Id && row.HashKeyId == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(row => row.Hash, key.Hash)
                .SetProperty(row => row.HashKeyId, key.HashKeyId)
                .SetProperty(row => row.Prefix, key.Prefix), cancellationToken);
    }

    private ApiKey NewRow(string name, ApiKeyRole role, string secret, string prefix) => new()
    {
        Name = name,
        Role = role,
        Prefix = prefix,
        Hash = hasher.Hash(secret),
        HashKeyId = hasher.KeyId,
        CreatedAt = time.GetUtcNow(),
    };

    private static string PrefixOf(string key) => key[..Math.Min(PrefixLength, key.Length)];
}
