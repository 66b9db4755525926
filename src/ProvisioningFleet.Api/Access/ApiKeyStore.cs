using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Access;

namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Issues and checks API keys. A key is 32 random bytes (so a plain SHA-256 is a safe hash); only the
/// hash and the first characters (the prefix, to find the row) are stored.
/// </summary>
public sealed class ApiKeyStore(FleetDbContext db, TimeProvider time)
{
    private const string KeyPrefix = "pfk_";
    private const int PrefixLength = 12;

    // Recording every use would turn each read into a write; a minute's precision is enough to see idle keys.
    private static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    /// <summary>Adds a new key to the context (saved with the caller's SaveChanges, with its audit entry).</summary>
    public (ApiKey Key, string Secret) Issue(string name, ApiKeyRole role)
    {
        var secret = NewSecret();
        var key = NewRow(name, role, secret);
        db.ApiKeys.Add(key);
        return (key, secret);
    }

    /// <summary>A new key: the prefix and 32 random bytes.</summary>
    public static string NewSecret() => KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>The active key with this value, or null; notes when it was last used.</summary>
    public async Task<ApiKey?> FindActiveAsync(string presented, CancellationToken cancellationToken)
    {
        if (presented.Length is 0 or > 512)
        {
            return null;
        }

        var prefix = PrefixOf(presented);
        var hash = Hash(presented);
        var candidates = await db.ApiKeys.AsNoTracking()
            .Where(key => key.Prefix == prefix && key.RevokedAt == null)
            .ToListAsync(cancellationToken);
        var match = candidates.FirstOrDefault(key => CryptographicOperations.FixedTimeEquals(key.Hash, hash));
        if (match is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (match.LastUsedAt is null || now - match.LastUsedAt >= LastUsedPrecision)
        {
            await db.ApiKeys.Where(key => key.Id == match.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(key => key.LastUsedAt, now), cancellationToken);
        }

        return match;
    }

    public Task<bool> IsActiveAsync(long id, ApiKeyRole role, CancellationToken cancellationToken) =>
        db.ApiKeys.AnyAsync(key => key.Id == id && key.Role == role && key.RevokedAt == null, cancellationToken);

    /// <summary>
    /// Makes <paramref name="secret"/> an active Admin key (FLEET_ADMIN_API_KEY). Bootstrap keys from
    /// earlier values of the setting are revoked, so that changing the setting rotates the key.
    /// </summary>
    public async Task EnsureBootstrapAdminAsync(string secret, CancellationToken cancellationToken)
    {
        const string name = "FLEET_ADMIN_API_KEY";
        var hash = Hash(secret);
        var bootstrapKeys = await db.ApiKeys.Where(key => key.Name == name && key.RevokedAt == null).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        foreach (var stale in bootstrapKeys.Where(key => !CryptographicOperations.FixedTimeEquals(key.Hash, hash)))
        {
            stale.RevokedAt = now;
        }

        if (!bootstrapKeys.Any(key => key.RevokedAt is null))
        {
            db.ApiKeys.Add(NewRow(name, ApiKeyRole.Admin, secret));
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private ApiKey NewRow(string name, ApiKeyRole role, string secret) => new()
    {
        Name = name,
        Role = role,
        Prefix = PrefixOf(secret),
        Hash = Hash(secret),
        CreatedAt = time.GetUtcNow(),
    };

    private static string PrefixOf(string key) => key[..Math.Min(PrefixLength, key.Length)];

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
