namespace ProvisioningFleet.Api.Access;

/// <summary>
/// Whether a bootstrap Admin key given by an operator is strong enough to guard the whole fleet.
/// Placeholders copied from deployment files and short or repetitive values are refused: anyone who
/// read the same files could otherwise sign in as Admin.
/// </summary>
public static class AdminKeyStrength
{
    public const int MinimumLength = 32;

    // Shannon estimate over the key's own characters: 32 random hex characters give about 115 bits, rarely under 90.
    private const double MinimumEstimatedBits = 80;

    private static readonly string[] PlaceholderWords = ["change", "replace", "placeholder", "example", "secret", "password"];

    /// <summary>Why <paramref name="key"/> is refused, or null when it is acceptable.</summary>
    public static string? Weakness(string key)
    {
        if (key.Length < MinimumLength)
        {
            return $"it has {key.Length} characters; use at least {MinimumLength} random characters";
        }

        if (PlaceholderWords.FirstOrDefault(word => key.Contains(word, StringComparison.OrdinalIgnoreCase)) is { } word)
        {
            return $"it looks like a placeholder (it contains \"{word}\")";
        }

        if (EstimatedBits(key) < MinimumEstimatedBits || DistinctPairShare(key) < 0.6)
        {
            return "it is too repetitive to be random";
        }

        return null;
    }

    private static double EstimatedBits(string key) =>
        key.GroupBy(character => character)
            .Select(group => (double)group.Count() / key.Length)
            .Sum(share => -share * Math.Log2(share)) * key.Length;

    // A repeated pattern ("0123456789abcdef" twice) has a high per-character estimate but few distinct neighbours.
    private static double DistinctPairShare(string key) =>
        (double)Enumerable.Range(0, key.Length - 1).Select(i => key.Substring(i, 2)).Distinct(StringComparer.Ordinal).Count() / (key.Length - 1);
}
