using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Probing;

/// <summary>
/// The reads of a ConfigMgr client's state that both the probe and the remediator make, each one
/// WS-Man round trip. Registry values live under HKLM\SOFTWARE\Microsoft\CCM\CcmExec.
/// </summary>
public static class ConfigMgrClient
{
    public const string RegistryNamespace = "root/cimv2";
    public const string ClientNamespace = "root/ccm";
    public const string CcmExecKey = @"SOFTWARE\Microsoft\CCM\CcmExec";
    /// <summary>HKEY_LOCAL_MACHINE for StdRegProv's hDefKey, declared uint32 by the provider.</summary>
    public const uint HKeyLocalMachine = 2147483650;

    public const string ProvisioningModeValue = "ProvisioningMode";
    public const string ProvisioningEnabledTimeValue = "ProvisioningEnabledTime";
    public const string ProvisioningMaxMinutesValue = "ProvisioningMaxMinutes";
    public const string SystemTaskExcludesValue = "SystemTaskExcludes";

    private const uint RegSz = 1;
    private const uint RegDword = 4;
    private const uint RegQword = 11;

    // StdRegProv answers with Win32 error codes in ReturnValue.
    private const uint ErrorFileNotFound = 2;
    private const uint ErrorAccessDenied = 5;

    /// <summary>
    /// One GetStringValue of ProvisioningMode: the single round trip that settles a healthy client.
    /// </summary>
    public static async Task<ProvisioningModeReading> ReadProvisioningModeAsync(ICimSession session, CancellationToken cancellationToken)
    {
        var result = await InvokeRegistryAsync(session, "GetStringValue", ProvisioningModeValue, cancellationToken);
        return result.ReturnValue.AsUInt32() switch
        {
            0 => new ProvisioningModeReading(KeyExists: true, IsTrue(result["sValue"].AsString()), result["sValue"].AsString()),
            // Win32 ERROR_FILE_NOT_FOUND is "no such value" when the key exists and "no such key" otherwise;
            // StdRegProv reports a missing value as 1 and a missing key as 2.
            1 => new ProvisioningModeReading(KeyExists: true, InProvisioningMode: false, RawValue: null),
            ErrorFileNotFound => new ProvisioningModeReading(KeyExists: false, InProvisioningMode: false, RawValue: null),
            var code => throw RegistryFailure("GetStringValue", ProvisioningModeValue, code),
        };
    }

    /// <summary>
    /// One GetStringValue of a REG_SZ under the CcmExec key: the text, or null when the value (or the key) is missing.
    /// </summary>
    public static async Task<string?> ReadStringValueAsync(ICimSession session, string valueName, CancellationToken cancellationToken)
    {
        var result = await InvokeRegistryAsync(session, "GetStringValue", valueName, cancellationToken);
        return result.ReturnValue.AsUInt32() switch
        {
            0 => result["sValue"].AsString(),
            1 or ErrorFileNotFound => null,
            var code => throw RegistryFailure("GetStringValue", valueName, code),
        };
    }

    /// <summary>
    /// The robust read: EnumValues for names and types, then the getter matching each type, because
    /// the type of ProvisioningEnabledTime differs between client versions.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, CimValue>> ReadTypedValuesAsync(
        ICimSession session, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        var enumerated = await session.InvokeAsync(
            RegistryNamespace, "StdRegProv", "EnumValues",
            [CimParameter.Of("hDefKey", HKeyLocalMachine), CimParameter.Of("sSubKeyName", CcmExecKey)],
            null, cancellationToken);
        var code = enumerated.ReturnValue.AsUInt32();
        if (code != 0)
        {
            throw RegistryFailure("EnumValues", CcmExecKey, code);
        }

        var valueNames = enumerated["sNames"].Items;
        var valueTypes = enumerated["Types"].Items;
        var values = new Dictionary<string, CimValue>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < valueNames.Count && i < valueTypes.Count; i++)
        {
            var name = valueNames[i].AsString();
            if (name is null || !names.Contains(name, StringComparer.OrdinalIgnoreCase) || values.ContainsKey(name))
            {
                continue;
            }

            var (getter, outName) = valueTypes[i].AsUInt32() switch
            {
                RegSz => ("GetStringValue", "sValue"),
                RegDword => ("GetDWORDValue", "uValue"),
                RegQword => ("GetQWORDValue", "uValue"),
                _ => (null, null),
            };
            if (getter is null || outName is null)
            {
                continue;
            }

            var read = await InvokeRegistryAsync(session, getter, name, cancellationToken);
            var readCode = read.ReturnValue.AsUInt32();
            if (readCode == 0)
            {
                values[name] = read[outName];
            }
            else if (readCode is not (1 or ErrorFileNotFound))
            {
                // The value was deleted between EnumValues and the read: that is an absent value, not an error.
                throw RegistryFailure(getter, name, readCode);
            }
        }

        return values;
    }

    /// <summary>
    /// The ConfigMgr client's identity, or a NotFound <see cref="CimException"/> when root\ccm or
    /// CCM_Client does not exist (no client installed).
    /// </summary>
    public static async Task<string?> ReadClientIdAsync(ICimSession session, CancellationToken cancellationToken)
    {
        // CCM_Client is a singleton: one instance is all that is used, whatever a device sends.
        var instances = await session.QueryAsync(ClientNamespace, "SELECT ClientId FROM CCM_Client", 1, cancellationToken);
        return instances.Count == 0 ? null : instances[0]["ClientId"].AsString();
    }

    /// <summary>
    /// The task-sequence signals readable over WinRM, each with whether it holds the device (domain.md,
    /// "Never break a live deployment"): TSManager.exe and SetupHost.exe always hold; an execution
    /// request in a running state holds unless its CompletionState is Failure, the corpse a sequence
    /// that died in a restart leaves behind. A running request without a completion state holds even
    /// without TSManager.exe: that is how a sequence between two reboots looks. CCM_TSExecutionRequest is
    /// missing on some client versions; its absence is no signal.
    /// </summary>
    public static async Task<IReadOnlyList<TaskSequenceSignal>> ReadTaskSequenceSignalsAsync(ICimSession session, CancellationToken cancellationToken)
    {
        var signals = new List<TaskSequenceSignal>();
        var processes = await session.QueryAsync(
            RegistryNamespace,
            "SELECT Name FROM Win32_Process WHERE Name = 'TSManager.exe' OR Name = 'SetupHost.exe'",
            MaxTaskSequenceProcesses,
            cancellationToken);
        foreach (var name in new[] { TaskSequenceSignal.TsManager, TaskSequenceSignal.SetupHost })
        {
            if (processes.Any(p => string.Equals(p["Name"].AsString(), name, StringComparison.OrdinalIgnoreCase)))
            {
                signals.Add(new TaskSequenceSignal($"{name} is running", Holds: true));
            }
        }

        IReadOnlyList<CimInstance> requests;
        try
        {
            requests = await session.QueryAsync(ClientNamespace + "/SoftMgmtAgent", "SELECT * FROM CCM_TSExecutionRequest", MaxExecutionRequests, cancellationToken);
        }
        catch (CimException e) when (e.Category == CimErrorCategory.NotFound)
        {
            return signals;
        }

        foreach (var request in requests)
        {
            if (RequestSignal(request) is { } signal)
            {
                signals.Add(signal);
            }
        }

        if (requests.Count >= MaxExecutionRequests)
        {
            // The rest was never read, and any of it could be a live sequence.
            signals.Add(new TaskSequenceSignal($"{MaxExecutionRequests} or more CCM_TSExecutionRequest instances; not all were read", Holds: true));
        }

        return signals;
    }

    private const int MaxTaskSequenceProcesses = 64;
    private const int MaxExecutionRequests = 256;

    private static TaskSequenceSignal? RequestSignal(CimInstance request)
    {
        var state = request["State"].AsString()?.Trim();
        if (state is null || !(state.Equals("Running", StringComparison.OrdinalIgnoreCase) || state.Equals("InProgress", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        // The id is the device's text: kept short, as it is stored with every verdict.
        var id = request["RequestID"].AsString()?.Trim() is { Length: > 0 } requestId ? requestId[..Math.Min(requestId.Length, 64)] + " " : "";
        var completion = request["CompletionState"].AsString()?.Trim();
        return completion switch
        {
            null or "" => new TaskSequenceSignal(
                $"CCM_TSExecutionRequest {id}is {state} without a completion state (a live sequence, or one between two reboots)", Holds: true),
            _ when completion.Equals("Failure", StringComparison.OrdinalIgnoreCase) => new TaskSequenceSignal(
                $"CCM_TSExecutionRequest {id}is {state} with CompletionState {completion}: left by a dead sequence, not a signal", Holds: false),
            _ => new TaskSequenceSignal(
                $"CCM_TSExecutionRequest {id}is {state} with CompletionState {completion} (only Failure marks a dead sequence)", Holds: true),
        };
    }

    /// <summary>
    /// The device's own clock: Win32_UTCTime where the provider has it, else Win32_OperatingSystem.LocalDateTime.
    /// Null when neither can be read (the verdict then uses the service clock).
    /// </summary>
    public static async Task<DateTimeOffset?> ReadClockAsync(ICimSession session, CancellationToken cancellationToken)
    {
        try
        {
            var utc = await session.QueryAsync(RegistryNamespace, "SELECT * FROM Win32_UTCTime", 1, cancellationToken);
            if (utc.Count > 0 && FromParts(utc[0]) is { } fromParts)
            {
                return fromParts;
            }
        }
        catch (CimException e) when (e.Category is CimErrorCategory.NotFound or CimErrorCategory.Fault)
        {
        }

        var os = await session.QueryAsync(RegistryNamespace, "SELECT LocalDateTime FROM Win32_OperatingSystem", 1, cancellationToken);
        return os.Count > 0 ? os[0]["LocalDateTime"].AsDateTime() : null;

        static DateTimeOffset? FromParts(CimInstance time)
        {
            var parts = new[] { "Year", "Month", "Day", "Hour", "Minute", "Second" }.Select(p => time[p].AsInt64()).ToArray();
            if (parts.Any(p => p is null))
            {
                return null;
            }

            try
            {
                return new DateTimeOffset((int)parts[0]!, (int)parts[1]!, (int)parts[2]!, (int)parts[3]!, (int)parts[4]!, (int)parts[5]!, TimeSpan.Zero);
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        }
    }

    private static Task<CimMethodResult> InvokeRegistryAsync(ICimSession session, string method, string valueName, CancellationToken cancellationToken) =>
        session.InvokeAsync(
            RegistryNamespace, "StdRegProv", method,
            [CimParameter.Of("hDefKey", HKeyLocalMachine), CimParameter.Of("sSubKeyName", CcmExecKey), CimParameter.Of("sValueName", valueName)],
            null, cancellationToken);

    private static CimException RegistryFailure(string method, string name, uint? code) => code switch
    {
        ErrorAccessDenied => new CimException(CimErrorCategory.AccessDenied, $"StdRegProv.{method}({name}) was refused: access denied.", code),
        null => new CimException(CimErrorCategory.Protocol, $"StdRegProv.{method}({name}) answered without a usable ReturnValue."),
        _ => new CimException(CimErrorCategory.Fault, $"StdRegProv.{method}({name}) failed with return value {code}.", code),
    };

    private static bool IsTrue(string? text) => string.Equals(text?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What one GetStringValue of ProvisioningMode says. <see cref="RawValue"/> is null when the value is missing.</summary>
public sealed record ProvisioningModeReading(bool KeyExists, bool InProvisioningMode, string? RawValue)
{
    /// <summary>The value reads "false" (in any case): the only proof that a client left provisioning mode.</summary>
    public bool ReadsFalse => KeyExists && string.Equals(RawValue?.Trim(), "false", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// One thing read on a device that bears on whether a task sequence runs, in words an operator can
/// read, and whether it holds the device (protects it from a fix).
/// </summary>
public sealed record TaskSequenceSignal(string Description, bool Holds)
{
    public const string TsManager = "TSManager.exe";
    public const string SetupHost = "SetupHost.exe";

    public override string ToString() => Description;
}
