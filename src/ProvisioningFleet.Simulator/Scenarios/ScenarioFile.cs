using System.Globalization;
using System.Text.Json.Nodes;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Inspection;

namespace ProvisioningFleet.Simulator.Scenarios;

/// <summary>
/// A scenario file: the generator's mix at the top level (shares as 0.02 or "2%") and an
/// <c>extraDevices</c> array of hand-written devices in the inspection API's shape, added after (and
/// replacing) generated ones of the same name.
/// <code>
/// { "devices": 1000, "overdue": "2%", "seed": 7,
///   "extraDevices": [ { "hostName": "stuck-01.lab", "provisioningMode": "true", "provisioningEnabledTime": 1760000000 } ] }
/// </code>
/// </summary>
public static class ScenarioFile
{
    public static async Task<IReadOnlyList<SimulatedDevice>> LoadAsync(string path, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        var root = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken) as JsonObject
            ?? throw new FormatException($"{path}: a scenario is a JSON object.");
        return Parse(root, time);
    }

    public static IReadOnlyList<SimulatedDevice> Parse(JsonObject root, TimeProvider? time = null)
    {
        var mix = new FleetMix();
        JsonArray? extra = null;
        foreach (var (name, node) in root)
        {
            mix = name switch
            {
                "devices" => mix with { Devices = Integer(name, node) },
                "seed" => mix with { Seed = Integer(name, node) },
                "overdue" => mix with { Overdue = Share(name, node) },
                "tsRunning" => mix with { TsRunning = Share(name, node) },
                "unreachable" => mix with { Unreachable = Share(name, node) },
                "noClient" => mix with { NoClient = Share(name, node) },
                "provisioning" => mix with { Provisioning = Share(name, node) },
                "accessDenied" => mix with { AccessDenied = Share(name, node) },
                "flaky" => mix with { Flaky = Share(name, node) },
                "deadTaskSequence" => mix with { DeadTaskSequence = Share(name, node) },
                "betweenReboots" => mix with { BetweenReboots = Share(name, node) },
                "domain" => mix with { Domain = Text(name, node) },
                "hostPrefix" => mix with { HostPrefix = Text(name, node) },
                "extraDevices" => mix,
                _ => throw new FormatException($"Unknown scenario field '{name}'."),
            };
            if (name == "extraDevices")
            {
                extra = node as JsonArray ?? throw new FormatException("extraDevices must be an array of device objects.");
            }
        }

        var devices = FleetScenario.Generate(mix, time).ToDictionary(d => d.HostName, StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var item in extra ?? [])
        {
            index++;
            if (item is not JsonObject device || device["hostName"] is not JsonValue host || !host.TryGetValue<string>(out var hostName) || string.IsNullOrWhiteSpace(hostName))
            {
                throw new FormatException($"extraDevices[{index}]: an object with a hostName is required.");
            }
            var simulated = new SimulatedDevice(hostName);
            var errors = DeviceDocument.Apply(simulated, device);
            if (errors.Count > 0)
            {
                throw new FormatException($"extraDevices[{index}] ({hostName}): " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
            }
            devices[simulated.HostName] = simulated;
        }
        return [.. devices.Values];
    }

    /// <summary>A share as 0.02 or "2%".</summary>
    public static double ParseShare(string text, string? field = null)
    {
        text = text.Trim();
        var percent = text.EndsWith('%');
        if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new FormatException($"{field ?? "A share"}: '{text}' is not a share (use 0.02 or 2%).");
        }
        return percent ? value / 100 : value;
    }

    private static double Share(string name, JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<string>(out var s) => ParseShare(s, name),
        _ => throw new FormatException($"{name} must be a number or a percentage string."),
    };

    private static int Integer(string name, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<int>(out var i) ? i : throw new FormatException($"{name} must be an integer.");

    private static string Text(string name, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"{name} must be a string.");
}
