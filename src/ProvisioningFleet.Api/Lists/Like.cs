namespace ProvisioningFleet.Api.Lists;

/// <summary>Makes user text literal inside a LIKE pattern (PostgreSQL's default escape is the backslash).</summary>
public static class Like
{
    public static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal);
}
