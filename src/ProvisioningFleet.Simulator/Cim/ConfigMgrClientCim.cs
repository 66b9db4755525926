using System.Globalization;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Protocol;

namespace ProvisioningFleet.Simulator.Cim;

/// <summary>
/// The CIM a simulated device exposes: the registry provider, the few Win32 classes the service reads,
/// and the ConfigMgr client's classes and methods. Behaves like WMI on a client: a missing client means
/// missing <c>root\ccm</c> namespaces and a missing CcmExec key, not an empty answer.
/// </summary>
internal static class ConfigMgrClientCim
{
    public const uint HkeyLocalMachine = 2147483650;
    private const string CcmExecKey = @"SOFTWARE\Microsoft\CCM\CcmExec";
    private const uint RegSz = 1;
    private const uint RegDword = 4;
    private const uint RegQword = 11;

    private static readonly string[] BaseProcesses =
        ["System Idle Process", "System", "smss.exe", "csrss.exe", "wininit.exe", "services.exe", "lsass.exe", "svchost.exe", "WmiPrvSE.exe", "explorer.exe"];

    private static readonly DateTimeOffset BootTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Static methods per class; a call on any other method is an invalid method.</summary>
    private static readonly Dictionary<string, string[]> Methods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["StdRegProv"] = ["EnumValues", "GetStringValue", "GetDWORDValue", "GetQWORDValue"],
        ["SMS_Client"] = ["SetClientProvisioningMode", "TriggerSchedule"],
    };

    private static readonly Lazy<Dictionary<string, string[]>> Schema = new(() =>
    {
        // Every class's property list, taken from one fully populated device so that the list and the
        // instances cannot drift apart; a class without instances still knows its properties.
        var prototype = new SimulatedDevice("schema.prototype") { TaskSequences = [SimulatedTaskSequence.Dead()] };
        return new[] { ("root/cimv2", "Win32_Process"), ("root/cimv2", "Win32_OperatingSystem"), ("root/cimv2", "Win32_UTCTime"),
                ("root/ccm", "CCM_Client"), ("root/ccm/SoftMgmtAgent", "CCM_TSExecutionRequest") }
            .ToDictionary(c => c.Item2, c => Instances(prototype, c.Item1, c.Item2)[0].Properties.Select(p => p.Key).ToArray(), StringComparer.OrdinalIgnoreCase);
    });

    /// <summary>The properties of a class that has instances; empty for method-only classes.</summary>
    public static IReadOnlyList<string> PropertiesOf(string className) =>
        Schema.Value.TryGetValue(className, out var properties) ? properties : [];

    private static string NormalizeNamespace(string @namespace) => @namespace.Replace('\\', '/').Trim('/');

    /// <summary>Checks that the namespace and class exist on this device; returns the canonical class name.</summary>
    public static (string Namespace, string ClassName) Resolve(SimulatedDevice device, string @namespace, string className)
    {
        var ns = NormalizeNamespace(@namespace);
        string[] classes = ns.ToLowerInvariant() switch
        {
            "root/cimv2" => ["Win32_Process", "Win32_OperatingSystem", "Win32_UTCTime", "StdRegProv"],
            "root/default" => ["StdRegProv"],
            "root/ccm" when device.ClientInstalled => ["CCM_Client", "SMS_Client"],
            "root/ccm/softmgmtagent" when device.ClientInstalled => ["CCM_TSExecutionRequest"],
            _ => throw WsManFaults.Wmi(WsManFaults.WbemInvalidNamespace, "Invalid namespace"),
        };
        var canonicalNs = ns.ToLowerInvariant() switch
        {
            "root/ccm/softmgmtagent" => "root/ccm/SoftMgmtAgent",
            var lower => lower,
        };
        var match = classes.FirstOrDefault(c => string.Equals(c, className, StringComparison.OrdinalIgnoreCase))
            ?? throw WsManFaults.Wmi(WsManFaults.WbemInvalidClass, "The specified class does not exist in the given namespace.");
        return (canonicalNs, match);
    }

    public static IReadOnlyList<SimInstance> Instances(SimulatedDevice device, string @namespace, string className)
    {
        var (ns, cls) = Resolve(device, @namespace, className);
        return cls switch
        {
            "Win32_Process" => Processes(device, ns),
            "Win32_OperatingSystem" => [OperatingSystem(device, ns)],
            "Win32_UTCTime" => [UtcTime(device, ns)],
            "CCM_Client" => [Client(device, ns)],
            "CCM_TSExecutionRequest" => [.. device.TaskSequences.Select(ts => TaskSequence(ts, ns))],
            _ => [],
        };
    }

    /// <summary>A Get without selectors: allowed on the singleton-like classes the service reads.</summary>
    public static SimInstance Get(SimulatedDevice device, string @namespace, string className, IReadOnlyDictionary<string, string> selectors)
    {
        var (ns, cls) = Resolve(device, @namespace, className);
        if (cls == "Win32_Process")
        {
            if (!selectors.TryGetValue("Handle", out var handle) || selectors.Count != 1)
            {
                throw WsManFaults.InvalidSelectors("Win32_Process is keyed by Handle.", selectors.Count == 0 ? "InsufficientSelectors" : "UnexpectedSelectors");
            }
            return Processes(device, ns).FirstOrDefault(p => p.TryGet("Handle", out var h) && Equals(h, handle))
                ?? throw WsManFaults.NotFound($"No process with handle {handle}.");
        }
        if (selectors.Count > 0)
        {
            throw WsManFaults.InvalidSelectors($"{cls} takes no selectors here.", "UnexpectedSelectors");
        }
        return Instances(device, ns, cls) switch
        {
            [var only] => only,
            _ => throw WsManFaults.NotFound($"{cls} has no single instance."),
        };
    }

    public static IReadOnlyList<KeyValuePair<string, object?>> Invoke(
        SimulatedDevice device, string @namespace, string className, string method, IReadOnlyDictionary<string, string?> arguments)
    {
        var (_, cls) = Resolve(device, @namespace, className);
        if (!Methods.TryGetValue(cls, out var methods) || !methods.Contains(method, StringComparer.Ordinal))
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidMethod, $"Invalid method {method} on {cls}.");
        }
        return cls == "StdRegProv" ? Registry(device, method, arguments) : SmsClient(device, method, arguments);
    }

    private static List<KeyValuePair<string, object?>> Registry(SimulatedDevice device, string method, IReadOnlyDictionary<string, string?> arguments)
    {
        var hive = HkeyLocalMachine;
        if (arguments.TryGetValue("hDefKey", out var hiveText) && hiveText is not null
            && !uint.TryParse(hiveText, NumberStyles.None, CultureInfo.InvariantCulture, out hive))
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidMethodParameters, "Invalid method Parameter(s): hDefKey.");
        }
        var key = (arguments.GetValueOrDefault("sSubKeyName") ?? string.Empty).Trim('\\');
        var valueName = arguments.GetValueOrDefault("sValueName");
        var values = hive == HkeyLocalMachine ? KeyValues(device, key) : null;

        if (values is null)
        {
            return method == "EnumValues"
                ? [new("sNames", null), new("Types", null), new("ReturnValue", 2u)]
                : [new(method == "GetStringValue" ? "sValue" : "uValue", null), new("ReturnValue", 2u)];
        }

        if (method == "EnumValues")
        {
            return values.Count == 0
                ? [new("sNames", null), new("Types", null), new("ReturnValue", 0u)]
                : [new("sNames", values.Select(v => v.Name).ToArray()), new("Types", values.Select(v => v.Type).ToArray()), new("ReturnValue", 0u)];
        }

        var (outName, wanted) = method switch
        {
            "GetStringValue" => ("sValue", RegSz),
            "GetDWORDValue" => ("uValue", RegDword),
            _ => ("uValue", RegQword),
        };
        var found = values.FirstOrDefault(v => string.Equals(v.Name, valueName, StringComparison.OrdinalIgnoreCase));
        if (found.Name is null)
        {
            return [new(outName, null), new("ReturnValue", 1u)];
        }
        if (found.Type != wanted)
        {
            return [new(outName, null), new("ReturnValue", WsManFaults.WbemTypeMismatch)];
        }
        return [new(outName, found.Value), new("ReturnValue", 0u)];
    }

    /// <summary>The values of a key, or null when the key does not exist.</summary>
    private static List<(string Name, uint Type, object Value)>? KeyValues(SimulatedDevice device, string key)
    {
        if (key.Length == 0 || key.Equals("SOFTWARE", StringComparison.OrdinalIgnoreCase) || key.Equals(@"SOFTWARE\Microsoft", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
        if (!device.ClientInstalled)
        {
            return null;
        }
        if (key.Equals(@"SOFTWARE\Microsoft\CCM", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
        if (!key.Equals(CcmExecKey, StringComparison.OrdinalIgnoreCase) || !device.CcmExecKeyPresent)
        {
            return null;
        }
        var values = new List<(string, uint, object)>(4);
        if (device.ProvisioningMode is { } mode)
        {
            values.Add(("ProvisioningMode", RegSz, mode));
        }
        if (device.ProvisioningEnabledTime is { } enabled)
        {
            values.Add(device.EnabledTimeAsQword
                ? ("ProvisioningEnabledTime", RegQword, (ulong)enabled)
                : ("ProvisioningEnabledTime", RegSz, enabled.ToString(CultureInfo.InvariantCulture)));
        }
        if (device.ProvisioningMaxMinutes is { } max)
        {
            values.Add(("ProvisioningMaxMinutes", RegDword, max));
        }
        if (device.SystemTaskExcludes is { } excludes)
        {
            values.Add(("SystemTaskExcludes", RegSz, excludes));
        }
        return values;
    }

    private static List<KeyValuePair<string, object?>> SmsClient(SimulatedDevice device, string method, IReadOnlyDictionary<string, string?> arguments)
    {
        if (method == "SetClientProvisioningMode")
        {
            var enable = arguments.GetValueOrDefault("bEnable") switch
            {
                "true" or "1" => true,
                "false" or "0" => false,
                _ => throw WsManFaults.Wmi(WsManFaults.WbemInvalidMethodParameters, "Invalid method Parameter(s): bEnable must be a boolean."),
            };
            device.SetClientProvisioningMode(enable);
            return device.FixCallAnswer switch
            {
                // Leaving provisioning mode restarts the client's service; its WMI provider can vanish under the call.
                FixCallAnswer.Fault => throw WsManFaults.Wmi(WsManFaults.RpcServerUnavailable, "The RPC server is unavailable.", sender: false),
                FixCallAnswer.DropConnection => throw new DroppedConnectionException(),
                // Documented only as "reserved": answer with an output element that has no ReturnValue.
                _ => [],
            };
        }

        if (string.IsNullOrWhiteSpace(arguments.GetValueOrDefault("sScheduleID")))
        {
            throw WsManFaults.Wmi(WsManFaults.WbemInvalidMethodParameters, "Invalid method Parameter(s): sScheduleID is required.");
        }
        // Real clients often answer TriggerSchedule with a nil ReturnValue.
        return [new("ReturnValue", null)];
    }

    private static List<SimInstance> Processes(SimulatedDevice device, string ns)
    {
        var machine = MachineName(device);
        var names = BaseProcesses.AsEnumerable();
        if (device.ClientInstalled)
        {
            names = names.Append("CcmExec.exe");
        }
        return [.. names.Concat(device.RunningProcesses).Select((name, index) =>
        {
            var pid = (uint)(index * 4);
            var path = index < 2 ? null : name.Equals("CcmExec.exe", StringComparison.OrdinalIgnoreCase)
                ? @"C:\Windows\CCM\CcmExec.exe"
                : name.Equals("TSManager.exe", StringComparison.OrdinalIgnoreCase)
                    ? @"C:\Windows\CCM\TSManager.exe"
                    : @"C:\Windows\System32\" + name;
            return new SimInstance(ns, "Win32_Process",
            [
                new("Caption", name),
                new("CommandLine", path),
                new("CSName", machine),
                new("ExecutablePath", path),
                new("Handle", pid.ToString(CultureInfo.InvariantCulture)),
                new("Name", name),
                new("ProcessId", pid),
            ]);
        })];
    }

    private static SimInstance OperatingSystem(SimulatedDevice device, string ns)
    {
        var now = device.CurrentTime.ToOffset(device.UtcOffset);
        return new SimInstance(ns, "Win32_OperatingSystem",
        [
            new("BuildNumber", "22631"),
            new("Caption", "Microsoft Windows 11 Enterprise"),
            new("CSName", MachineName(device)),
            new("CurrentTimeZone", (short)device.UtcOffset.TotalMinutes),
            new("LastBootUpTime", new CimDatetime(BootTime.ToOffset(device.UtcOffset))),
            new("LocalDateTime", new CimDatetime(now)),
            new("Name", @"Microsoft Windows 11 Enterprise|C:\WINDOWS|\Device\Harddisk0\Partition3"),
            new("Version", "10.0.22631"),
        ]);
    }

    private static SimInstance UtcTime(SimulatedDevice device, string ns)
    {
        var now = device.CurrentTime.UtcDateTime;
        return new SimInstance(ns, "Win32_UTCTime",
        [
            new("Day", (uint)now.Day),
            new("DayOfWeek", (uint)now.DayOfWeek),
            new("Hour", (uint)now.Hour),
            new("Milliseconds", null),
            new("Minute", (uint)now.Minute),
            new("Month", (uint)now.Month),
            new("Quarter", (uint)((now.Month - 1) / 3 + 1)),
            new("Second", (uint)now.Second),
            new("WeekInMonth", (uint)((now.Day + (int)new DateTime(now.Year, now.Month, 1).DayOfWeek - 1) / 7 + 1)),
            new("Year", (uint)now.Year),
        ]);
    }

    private static SimInstance Client(SimulatedDevice device, string ns) => new(ns, "CCM_Client",
    [
        new("ClientId", device.ClientId),
        new("ClientIdChangeDate", "11/25/2025 09:00:00"),
        new("ClientType", 1u),
        new("ClientVersion", "5.00.9132.1000"),
        new("PreviousClientId", null),
    ]);

    private static SimInstance TaskSequence(SimulatedTaskSequence ts, string ns) => new(ns, "CCM_TSExecutionRequest",
    [
        new("AdvertID", ts.AdvertisementId),
        new("ContentID", ts.ContentId),
        new("CompletionState", ts.CompletionState),
        new("RequestID", ts.RequestId),
        new("State", ts.State),
    ]);

    private static string MachineName(SimulatedDevice device)
    {
        var dot = device.HostName.IndexOf('.');
        return (dot > 0 ? device.HostName[..dot] : device.HostName).ToUpperInvariant();
    }
}
