using System.Text.Json;
using System.Text.RegularExpressions;

namespace ProvisioningFleet.Api.Hosting;

/// <summary>
/// What a caller is told about JSON the serializer refused. System.Text.Json's own messages name .NET types
/// ("could not be converted to ProvisioningFleet.Api.Devices.DeviceInput"), which say nothing useful to a
/// script and describe the service's insides; these say what the field needed instead.
/// </summary>
public static partial class JsonFaultMessages
{
    private const string NullableOf = "System.Nullable`1[";

    public static string Describe(JsonException exception)
    {
        var message = exception.Message.Split(" Path:", 2)[0];
        if (UnknownField().Match(message) is { Success: true } unknown)
        {
            return $"Unknown field '{unknown.Groups[1].Value}': this resource has no such field.";
        }

        if (DuplicateField().Match(message) is { Success: true } duplicate)
        {
            return $"The field '{duplicate.Groups[1].Value}' appears more than once.";
        }

        if (NotConvertible().Match(message) is { Success: true } conversion)
        {
            return $"The value is not {Expected(conversion.Groups[1].Value)}.";
        }

        if (message.Contains("duplicate", StringComparison.OrdinalIgnoreCase))
        {
            return "A field appears more than once.";
        }

        // Our own converters' messages and the reader's syntax messages name no type; anything else might.
        return DotNetName().IsMatch(message) ? "The value is not valid here." : message;
    }

    private static string Expected(string type) => (type.StartsWith(NullableOf, StringComparison.Ordinal) ? type[NullableOf.Length..^1] : type) switch
    {
        "System.Boolean" => "true or false",
        "System.Int32" or "System.Int64" or "System.UInt32" or "System.Int16" => "a whole number in range",
        "System.Double" or "System.Decimal" or "System.Single" => "a number",
        "System.String" => "a string",
        "System.DateTimeOffset" or "System.DateTime" => "an ISO 8601 time",
        var array when array.EndsWith("[]", StringComparison.Ordinal) || array.Contains("List`1", StringComparison.Ordinal) => "an array",
        var other when other.StartsWith("ProvisioningFleet.", StringComparison.Ordinal) && other.EndsWith("Input", StringComparison.Ordinal) => "an object",
        _ => "of the expected type",
    };

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnknownField();

    [GeneratedRegex(@"[Dd]uplicate (?:JSON )?property '?([^'\s]+)'?")]
    private static partial Regex DuplicateField();

    [GeneratedRegex(@"could not be converted to ([^\s.]+(?:\.[^\s.]+)*)\.?$")]
    private static partial Regex NotConvertible();

    [GeneratedRegex(@"\b(System|ProvisioningFleet|Microsoft)\.[A-Z]|\.NET\b")]
    private static partial Regex DotNetName();
}
