namespace ProvisioningFleet.Data.Access;

/// <summary>
/// An API key. Only the SHA-256 of the key is kept; <see cref="Prefix"/> (the key's first characters)
/// finds the candidate rows without scanning.
/// </summary>
public class ApiKey
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    public ApiKeyRole Role { get; set; }
    public string Prefix { get; set; } = "";
    public byte[] Hash { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
