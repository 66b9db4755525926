using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Inspection;

internal static class InspectionJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter());
    }
}

/// <summary>A CCM_TSExecutionRequest in the inspection API and scenario files.</summary>
public sealed record TaskSequenceDocument(string? RequestId, string? ContentId, string? AdvertisementId, string? State, string? CompletionState = null);

/// <summary>
/// A device's full state as the inspection API and scenario files show it. Every settable field of
/// <see cref="SimulatedDevice"/> appears here; <see cref="DeviceDocument.Apply"/> takes a partial JSON
/// object so that PATCH changes only what it names.
/// </summary>
public sealed record DeviceDocument(
    string HostName,
    bool ClientInstalled,
    string? ProvisioningMode,
    long? ProvisioningEnabledTime,
    bool EnabledTimeAsQword,
    uint? ProvisioningMaxMinutes,
    string? SystemTaskExcludes,
    string ClientId,
    IReadOnlyList<string> Tags,
    IReadOnlyList<string> RunningProcesses,
    IReadOnlyList<TaskSequenceDocument> TaskSequences,
    double ClockSkewSeconds,
    double UtcOffsetMinutes,
    double LatencyMs,
    DeviceBehavior Behavior,
    double FaultRate,
    bool FixTakesEffect,
    FixCallAnswer FixCallAnswer,
    RegistryAfterFix RegistryAfterFix,
    bool CcmExecKeyPresent,
    double? TaskSequenceEndsAfterMinutes,
    bool LeavesProvisioningAfterOwnTimeout,
    DateTimeOffset CurrentTime,
    bool InProvisioningMode,
    bool TaskSequenceRunning)
{
    public static DeviceDocument From(SimulatedDevice device)
    {
        device.CatchUp();
        return Snapshot(device);
    }

    private static DeviceDocument Snapshot(SimulatedDevice device) => new(
        device.HostName,
        device.ClientInstalled,
        device.ProvisioningMode,
        device.ProvisioningEnabledTime,
        device.EnabledTimeAsQword,
        device.ProvisioningMaxMinutes,
        device.SystemTaskExcludes,
        device.ClientId,
        device.Tags,
        device.RunningProcesses,
        [.. device.TaskSequences.Select(t => new TaskSequenceDocument(t.RequestId, t.ContentId, t.AdvertisementId, t.State, t.CompletionState))],
        device.ClockSkew.TotalSeconds,
        device.UtcOffset.TotalMinutes,
        device.Latency.TotalMilliseconds,
        device.Behavior,
        device.FaultRate,
        device.FixTakesEffect,
        device.FixCallAnswer,
        device.RegistryAfterFix,
        device.CcmExecKeyPresent,
        device.TaskSequenceEndsAfter?.TotalMinutes,
        device.LeavesProvisioningAfterOwnTimeout,
        device.CurrentTime,
        device.InProvisioningMode,
        device.TaskSequenceRunning);

    /// <summary>
    /// Applies the fields present in <paramref name="json"/>. Everything is checked first; on any
    /// error nothing changes and the errors name the fields.
    /// </summary>
    public static Dictionary<string, string[]> Apply(SimulatedDevice device, JsonObject json)
    {
        var errors = new Dictionary<string, string[]>();
        var changes = new List<Action<SimulatedDevice>>();

        foreach (var (name, node) in json)
        {
            try
            {
                changes.Add(Change(name, node));
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException or JsonException or ArgumentException)
            {
                errors[name] = [ex.Message];
            }
        }
        if (errors.Count == 0)
        {
            changes.ForEach(change => change(device));
        }
        return errors;
    }

    private static Action<SimulatedDevice> Set<T>(T value, Action<SimulatedDevice, T> set) => device => set(device, value);

    private static T Check<T>(T value, bool valid, string message) => valid ? value : throw new FormatException(message);

    private static Action<SimulatedDevice> Change(string name, JsonNode? node) => name switch
    {
        "hostName" => _ => { }
        ,
        "clientInstalled" => Set(Bool(node), (d, v) => d.ClientInstalled = v),
        "provisioningMode" => Set(OptionalString(node), (d, v) => d.ProvisioningMode = v),
        "provisioningEnabledTime" => Set(OptionalLong(node), (d, v) => d.ProvisioningEnabledTime = v),
        "enabledTimeAsQword" => Set(Bool(node), (d, v) => d.EnabledTimeAsQword = v),
        "provisioningMaxMinutes" => Set(OptionalLong(node) is var max && max is null or (>= 0 and <= uint.MaxValue)
            ? (uint?)max : throw new FormatException("Must be a REG_DWORD (0..4294967295) or null."), (d, v) => d.ProvisioningMaxMinutes = v),
        "systemTaskExcludes" => Set(OptionalString(node), (d, v) => d.SystemTaskExcludes = v),
        "clientId" => Set(OptionalString(node) is { Length: > 0 } id ? id : throw new FormatException("Must be a non-empty string."), (d, v) => d.ClientId = v),
        "tags" => Set(Strings(node), (d, v) => d.Tags = v),
        "runningProcesses" => Set(Strings(node), (d, v) => d.RunningProcesses = v),
        "taskSequences" => Set(TaskSequencesOf(node), (d, v) => d.TaskSequences = v),
        "clockSkewSeconds" => Set(TimeSpan.FromSeconds(Number(node)), (d, v) => d.ClockSkew = v),
        "utcOffsetMinutes" => Set(Check(Number(node), Math.Abs(Number(node)) <= 840, "Must be within ±840 minutes."), (d, v) => d.UtcOffset = TimeSpan.FromMinutes(v)),
        "latencyMs" => Set(Check(Number(node), Number(node) >= 0, "Must be 0 or more."), (d, v) => d.Latency = TimeSpan.FromMilliseconds(v)),
        "behavior" => Set(EnumOf<DeviceBehavior>(node), (d, v) => d.Behavior = v),
        "fixCallAnswer" => Set(EnumOf<FixCallAnswer>(node), (d, v) => d.FixCallAnswer = v),
        "registryAfterFix" => Set(EnumOf<RegistryAfterFix>(node), (d, v) => d.RegistryAfterFix = v),
        "ccmExecKeyPresent" => Set(Bool(node), (d, v) => d.CcmExecKeyPresent = v),
        "faultRate" => Set(Check(Number(node), Number(node) is >= 0 and <= 1, "Must be between 0 and 1."), (d, v) => d.FaultRate = v),
        "fixTakesEffect" => Set(Bool(node), (d, v) => d.FixTakesEffect = v),
        "taskSequenceEndsAfterMinutes" => Set(node is null ? (TimeSpan?)null
            : TimeSpan.FromMinutes(Check(Number(node), Number(node) >= 0, "Must be 0 or more, or null.")), (d, v) => d.TaskSequenceEndsAfter = v),
        "leavesProvisioningAfterOwnTimeout" => Set(Bool(node), (d, v) => d.LeavesProvisioningAfterOwnTimeout = v),
        "currentTime" or "inProvisioningMode" or "taskSequenceRunning" => throw new FormatException("Read-only; change the fields it derives from."),
        _ => throw new FormatException("Unknown field."),
    };

    private static T EnumOf<T>(JsonNode? node) where T : struct, Enum =>
        Enum.TryParse<T>(OptionalString(node), ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(OptionalString(node), out _)
            ? value : throw new FormatException($"Must be one of {string.Join(", ", Enum.GetNames<T>())}.");

    private static bool Bool(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<bool>(out var b) ? b : throw new FormatException("Must be true or false.");

    private static double Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : throw new FormatException("Must be a number.");

    private static string? OptionalString(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => throw new FormatException("Must be a string or null."),
    };

    private static long? OptionalLong(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<long>(out var l) => l,
        JsonValue value when value.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < long.MaxValue => (long)d,
        _ => throw new FormatException("Must be an integer or null."),
    };

    private static IReadOnlyList<string> Strings(JsonNode? node) => node is JsonArray array
        ? [.. array.Select(item => OptionalString(item) is { Length: > 0 } s ? s : throw new FormatException("Every item must be a non-empty string."))]
        : throw new FormatException("Must be an array of strings.");

    private static IReadOnlyList<SimulatedTaskSequence> TaskSequencesOf(JsonNode? node)
    {
        if (node is not JsonArray array)
        {
            throw new FormatException("Must be an array of task sequences.");
        }
        return [.. array.Select(item =>
        {
            var ts = item.Deserialize<TaskSequenceDocument>(JsonOptions) ?? throw new FormatException("A task sequence must be an object.");
            var fresh = SimulatedTaskSequence.RunningUpgrade(ts.ContentId ?? "PS100042");
            return fresh with
            {
                RequestId = ts.RequestId ?? fresh.RequestId,
                AdvertisementId = ts.AdvertisementId ?? fresh.AdvertisementId,
                State = ts.State ?? fresh.State,
                CompletionState = ts.CompletionState,
            };
        })];
    }

    private static readonly JsonSerializerOptions JsonOptions = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions();
        InspectionJson.Configure(options);
        return options;
    }
}
