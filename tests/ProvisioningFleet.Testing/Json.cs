using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProvisioningFleet.Testing;

/// <summary>The API's JSON conventions (camelCase, enums by name), for reading responses in tests.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };
}
