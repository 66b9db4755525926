using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Core.Tests;

/// <summary>
/// An in-memory device at the ICimSession edge: the registry key, root\ccm, processes and clock that
/// the probe and the remediator read, and a log of every call they make.
/// </summary>
internal sealed class FakeConfigMgrDevice : ICimSession
{
    public bool KeyExists { get; set; } = true;

    public bool CcmNamespaceExists { get; set; } = true;

    public bool TsExecutionRequestClassExists { get; set; }

    public Dictionary<string, (uint Type, string Value)> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Processes { get; } = [];

    /// <summary>CCM_TSExecutionRequest instances: State and CompletionState (null = not set).</summary>
    public List<(string State, string? CompletionState)> TsRequests { get; } = [];

    /// <summary>What the fix does to the CcmExec key besides the mode: "keep", "delete-value" or "delete-key".</summary>
    public string FixLeavesRegistry { get; set; } = "keep";

    /// <summary>The most instances any query was asked to return, by query, as the engine said.</summary>
    public Dictionary<string, int> MaxItemsAsked { get; } = [];

    public string? ClientId { get; set; } = "GUID:11111111-2222-3333-4444-555555555555";

    /// <summary>The device's clock; null makes both clock classes unreadable.</summary>
    public DateTimeOffset? Clock { get; set; }

    public bool FixTakesEffect { get; set; } = true;

    public CimValue TriggerScheduleReturnValue { get; set; } = CimValue.Null;

    /// <summary>Thrown by the call whose log entry starts with the key.</summary>
    public Dictionary<string, CimException> Failures { get; } = [];

    private readonly Dictionary<string, CimException> _failOnce = [];

    /// <summary>The next call whose log entry starts with the prefix throws; later ones do not.</summary>
    public void FailOnce(string prefix, CimException failure) => _failOnce[prefix] = failure;

    /// <summary>Calls that never answer (until cancelled), by log-entry prefix.</summary>
    public HashSet<string> Hangs { get; } = [];

    /// <summary>Calls that take effect and then never answer (until cancelled), by log-entry prefix.</summary>
    public HashSet<string> HangsAfterEffect { get; } = [];

    /// <summary>Runs after each call, to change the device between calls.</summary>
    public Action<string>? AfterCall { get; set; }

    public List<string> Log { get; } = [];

    public bool InProvisioningMode
    {
        set => Values["ProvisioningMode"] = (1, value ? "true" : "false");
    }

    public static FakeConfigMgrDevice InProvisioning(DateTimeOffset clock, DateTimeOffset enabledAt, uint enabledTimeType = 1, int? maxMinutes = null)
    {
        var device = new FakeConfigMgrDevice { Clock = clock, InProvisioningMode = true };
        device.Values["ProvisioningEnabledTime"] = (enabledTimeType, enabledAt.ToUnixTimeSeconds().ToString());
        if (maxMinutes is { } max)
        {
            device.Values["ProvisioningMaxMinutes"] = (4, max.ToString());
        }

        device.Values["SystemTaskExcludes"] = (1, "SchedulerStartup;SchedulerShutdown");
        return device;
    }

    public async Task<IReadOnlyList<CimInstance>> QueryAsync(string cimNamespace, string wql, int maxItems, CancellationToken cancellationToken)
    {
        var entry = $"Query {cimNamespace} {wql}";
        MaxItemsAsked[wql] = maxItems;
        await EnterAsync(entry, cancellationToken);
        IReadOnlyList<CimInstance> answer;
        if (cimNamespace.StartsWith("root/ccm", StringComparison.OrdinalIgnoreCase) && !CcmNamespaceExists)
        {
            throw new CimException(CimErrorCategory.NotFound, "Invalid namespace", 0x8004100E);
        }

        if (wql.Contains("CCM_Client"))
        {
            answer = [Instance("CCM_Client", ("ClientId", CimValue.From(ClientId)))];
        }
        else if (wql.Contains("CCM_TSExecutionRequest"))
        {
            if (!TsExecutionRequestClassExists)
            {
                throw new CimException(CimErrorCategory.NotFound, "Invalid class", 0x80041010);
            }

            answer = TsRequests.Select((r, i) => Instance("CCM_TSExecutionRequest",
                ("RequestID", CimValue.From($"{{REQ-{i}}}")), ("State", CimValue.From(r.State)), ("CompletionState", CimValue.From(r.CompletionState)))).ToList();
        }
        else if (wql.Contains("Win32_Process"))
        {
            answer = Processes.Select(p => Instance("Win32_Process", ("Name", CimValue.From(p)))).ToList();
        }
        else if (wql.Contains("Win32_UTCTime"))
        {
            answer = Clock is { } c
                ? [Instance("Win32_UTCTime", ("Year", CimValue.From(c.Year)), ("Month", CimValue.From(c.Month)), ("Day", CimValue.From(c.Day)),
                    ("Hour", CimValue.From(c.Hour)), ("Minute", CimValue.From(c.Minute)), ("Second", CimValue.From(c.Second)))]
                : [];
        }
        else if (wql.Contains("Win32_OperatingSystem"))
        {
            answer = Clock is { } c ? [Instance("Win32_OperatingSystem", ("LocalDateTime", CimValue.From(c)))] : [];
        }
        else
        {
            throw new CimException(CimErrorCategory.NotFound, $"Unexpected query {wql}", 0x80041010);
        }

        After(entry);
        return answer.Take(maxItems).ToList();
    }

    public Task<CimInstance> GetAsync(string cimNamespace, string className, IReadOnlyDictionary<string, string> keys, CancellationToken cancellationToken) =>
        throw new CimException(CimErrorCategory.NotFound, $"Get {className} is not used by the engine");

    public async Task<CimMethodResult> InvokeAsync(string cimNamespace, string className, string methodName, IReadOnlyList<CimParameter> parameters,
        IReadOnlyDictionary<string, string>? instanceKeys, CancellationToken cancellationToken)
    {
        var args = string.Join(",", parameters.Select(p => $"{p.Name}={p.Value}"));
        var entry = $"Invoke {className}.{methodName}({args})";
        await EnterAsync(entry, cancellationToken);
        var result = className switch
        {
            "StdRegProv" => Registry(methodName, parameters.ToDictionary(p => p.Name, p => p.Value.AsString())),
            "SMS_Client" when !CcmNamespaceExists => throw new CimException(CimErrorCategory.NotFound, "Invalid namespace", 0x8004100E),
            "SMS_Client" when methodName == "SetClientProvisioningMode" => SetMode(parameters.Single().Value.AsBoolean()!.Value),
            "SMS_Client" when methodName == "TriggerSchedule" => new CimMethodResult(TriggerScheduleReturnValue, new Dictionary<string, CimValue>()),
            _ => throw new CimException(CimErrorCategory.NotFound, $"No {className}.{methodName}", 0x80041010),
        };
        After(entry);
        if (HangsAfterEffect.Any(entry.StartsWith))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return result;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public int CountOf(string prefix) => Log.Count(e => e.StartsWith(prefix, StringComparison.Ordinal));

    private CimMethodResult SetMode(bool enable)
    {
        if (FixTakesEffect)
        {
            InProvisioningMode = enable;
            switch (FixLeavesRegistry)
            {
                case "delete-value":
                    Values.Remove("ProvisioningMode");
                    break;
                case "delete-key":
                    KeyExists = false;
                    break;
            }

            if (!enable && Values.ContainsKey("SystemTaskExcludes"))
            {
                Values["SystemTaskExcludes"] = (1, "");
            }
        }

        return new CimMethodResult(CimValue.Null, new Dictionary<string, CimValue>());
    }

    private CimMethodResult Registry(string method, Dictionary<string, string?> args)
    {
        if (!KeyExists)
        {
            return Return(2);
        }

        if (method == "EnumValues")
        {
            return new CimMethodResult(CimValue.From(0L), new Dictionary<string, CimValue>
            {
                ["sNames"] = CimValue.Array(Values.Keys.Select(CimValue.From)),
                ["Types"] = CimValue.Array(Values.Values.Select(v => CimValue.From((long)v.Type))),
            });
        }

        var (type, outName) = method switch
        {
            "GetStringValue" => (1u, "sValue"),
            "GetDWORDValue" => (4u, "uValue"),
            "GetQWORDValue" => (11u, "uValue"),
            _ => throw new CimException(CimErrorCategory.Fault, $"No method {method}", 0x80041055),
        };
        if (!Values.TryGetValue(args["sValueName"]!, out var value))
        {
            return Return(1);
        }

        // Like the real provider: the wrong getter for a value's type fails with ERROR_INVALID_DATATYPE-like codes.
        return value.Type == type
            ? new CimMethodResult(CimValue.From(0L), new Dictionary<string, CimValue> { [outName] = CimValue.From(value.Value) })
            : Return(2147749893);

        static CimMethodResult Return(long code) => new(CimValue.From(code), new Dictionary<string, CimValue>());
    }

    private async Task EnterAsync(string entry, CancellationToken cancellationToken)
    {
        Log.Add(entry);
        if (Hangs.Any(entry.StartsWith))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        foreach (var (prefix, failure) in _failOnce)
        {
            if (entry.StartsWith(prefix, StringComparison.Ordinal))
            {
                _failOnce.Remove(prefix);
                throw failure;
            }
        }

        foreach (var (prefix, failure) in Failures)
        {
            if (entry.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw failure;
            }
        }
    }

    private void After(string entry) => AfterCall?.Invoke(entry);

    private static CimInstance Instance(string className, params (string Name, CimValue Value)[] properties) =>
        new(className, properties.ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase));
}
