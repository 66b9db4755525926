namespace ProvisioningFleet.Data.Access;

/// <summary>
/// An API key. Only a keyed hash (HMAC, its key outside the database) of the key is kept.
/// <see cref="Prefix"/> finds the candidate rows without scanning: for issued keys it is a random,
/// non-secret id written in front of the secret part; bootstrap keys have none.
/// </summary>
public class ApiKey
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public ApiKeyRole Role { get; set; }
    public string Prefix { get; set; } = "";
    public byte[] Hash { get; set; } = [];

    /// <summary>Which HMAC key made <see cref="Hash"/>; null for a plain SHA-256 stored before keyed hashing.</summary>
    public string? HashKeyId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
