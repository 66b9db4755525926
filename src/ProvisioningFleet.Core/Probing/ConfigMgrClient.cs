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
    public const long HKeyLocalMachine = 2147483650;

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
            0 => result["sValue"].AsString() is { } text
                ? new ProvisioningModeReading(KeyExists: true, string.Equals(text.Trim(), "true", StringComparison.OrdinalIgnoreCase), text)
                : new ProvisioningModeReading(KeyExists: true, InProvisioningMode: false, RawValue: null),
            // Win32 ERROR_FILE_NOT_FOUND is "no such value" when the key exists and "no such key" otherwise;
            // StdRegProv reports a missing value as 1 and a missing key as 2.
            1 => new ProvisioningModeReading(KeyExists: true, InProvisioningMode: false, RawValue: null),
            ErrorFileNotFound => new ProvisioningModeReading(KeyExists: false, InProvisioningMode: false, RawValue: null),
            var code => throw RegistryFailure("GetStringValue", ProvisioningModeValue, code),
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
        var instances = await session.QueryAsync(ClientNamespace, "SELECT ClientId FROM CCM_Client", cancellationToken);
        return instances.Count == 0 ? null : instances[0]["ClientId"].AsString();
    }

    /// <summary>
    /// The task-sequence signals that are readable over WinRM. Returns the names of the signals seen
    /// (empty when none). CCM_TSExecutionRequest is missing on some client versions; its absence is no signal.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ReadTaskSequenceSignalsAsync(ICimSession session, CancellationToken cancellationToken)
    {
        var signals = new List<string>();
        var processes = await session.QueryAsync(
            RegistryNamespace,
            "SELECT Name FROM Win32_Process WHERE Name = 'TSManager.exe' OR Name = 'SetupHost.exe'",
            cancellationToken);
        foreach (var process in processes)
        {
            if (process["Name"].AsString() is { } name
                && (name.Equals("TSManager.exe", StringComparison.OrdinalIgnoreCase) || name.Equals("SetupHost.exe", StringComparison.OrdinalIgnoreCase))
                && !signals.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                signals.Add(name);
            }
        }

        try
        {
            var requests = await session.QueryAsync(ClientNamespace + "/SoftMgmtAgent", "SELECT * FROM CCM_TSExecutionRequest", cancellationToken);
            if (requests.Any(IsRunning))
            {
                signals.Add("CCM_TSExecutionRequest");
            }
        }
        catch (CimException e) when (e.Category == CimErrorCategory.NotFound)
        {
        }

        return signals;

        static bool IsRunning(CimInstance request) =>
            request["State"].AsString()?.Trim() is { } state
            && (state.Equals("Running", StringComparison.OrdinalIgnoreCase) || state.Equals("InProgress", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The device's own clock: Win32_UTCTime where the provider has it, else Win32_OperatingSystem.LocalDateTime.
    /// Null when neither can be read (the verdict then uses the service clock).
    /// </summary>
    public static async Task<DateTimeOffset?> ReadClockAsync(ICimSession session, CancellationToken cancellationToken)
    {
        try
        {
            var utc = await session.QueryAsync(RegistryNamespace, "SELECT * FROM Win32_UTCTime", cancellationToken);
            if (utc.Count > 0 && FromParts(utc[0]) is { } fromParts)
            {
                return fromParts;
            }
        }
        catch (CimException e) when (e.Category is CimErrorCategory.NotFound or CimErrorCategory.Fault)
        {
        }

        var os = await session.QueryAsync(RegistryNamespace, "SELECT LocalDateTime FROM Win32_OperatingSystem", cancellationToken);
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
}

/// <summary>What one GetStringValue of ProvisioningMode says.</summary>
public sealed record ProvisioningModeReading(bool KeyExists, bool InProvisioningMode, string? RawValue);
