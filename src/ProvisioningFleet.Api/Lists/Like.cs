namespace ProvisioningFleet.Api.Lists;

/// <summary>
/// Makes user text literal inside a LIKE pattern. Pass <see cref="EscapeCharacter"/> to
/// <c>EF.Functions.Like</c>/<c>ILike</c>: without it EF Core sends <c>ESCAPE ''</c> and the escapes would be literal.
/// </summary>
public static class Like
{
    public const string EscapeCharacter = "\\";

    public static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal);
}
