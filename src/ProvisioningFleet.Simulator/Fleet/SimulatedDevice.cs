namespace ProvisioningFleet.Simulator.Fleet;

/// <summary>
/// One simulated Windows machine with (or without) a ConfigMgr client. Settable state mirrors what a
/// real client keeps in <c>HKLM\SOFTWARE\Microsoft\CCM\CcmExec</c> and WMI; the behaviour knobs decide
/// how its WinRM listener answers. Kept small on purpose: a fleet holds up to 100,000 of these.
/// </summary>
public sealed class SimulatedDevice(string hostName)
{
    /// <summary>The client's own default timeout when <c>ProvisioningMaxMinutes</c> is missing or 0.</summary>
    public const uint DefaultProvisioningMaxMinutes = 2880;

    private static readonly IReadOnlyList<string> NoProcesses = [];
    private static readonly IReadOnlyList<SimulatedTaskSequence> NoTaskSequences = [];

    private readonly Lock _gate = new();
    private TimeProvider _time = TimeProvider.System;
    private DateTimeOffset _addedAt;
    private List<InvocationRecord>? _invocations;
    private int _invocationCapacity = 1000;

    public string HostName { get; } = string.IsNullOrWhiteSpace(hostName)
        ? throw new ArgumentException("A simulated device needs a host name.", nameof(hostName))
        : hostName.Trim();

    /// <summary>False: the CcmExec key and the <c>root\ccm</c> namespaces do not exist.</summary>
    public bool ClientInstalled { get; set; } = true;

    /// <summary>The REG_SZ <c>ProvisioningMode</c>: "true", "false", "False"... null = value missing.</summary>
    public string? ProvisioningMode { get; set; } = "false";

    /// <summary><c>ProvisioningEnabledTime</c> as Unix epoch seconds written by the client's clock; null = missing.</summary>
    public long? ProvisioningEnabledTime { get; set; }

    /// <summary>True: <c>ProvisioningEnabledTime</c> is a REG_QWORD; false: a REG_SZ holding the number.</summary>
    public bool EnabledTimeAsQword { get; set; }

    /// <summary>The REG_DWORD <c>ProvisioningMaxMinutes</c>; null = value missing.</summary>
    public uint? ProvisioningMaxMinutes { get; set; }

    /// <summary>The REG_SZ <c>SystemTaskExcludes</c>; null = value missing.</summary>
    public string? SystemTaskExcludes { get; set; }

    /// <summary><c>root\ccm:CCM_Client.ClientId</c>.</summary>
    public string ClientId { get; set; } = $"GUID:{Guid.NewGuid().ToString().ToUpperInvariant()}";

    /// <summary>Processes running besides the base Windows ones (e.g. TSManager.exe, SetupHost.exe).</summary>
    public IReadOnlyList<string> RunningProcesses { get; set; } = NoProcesses;

    /// <summary><c>CCM_TSExecutionRequest</c> instances.</summary>
    public IReadOnlyList<SimulatedTaskSequence> TaskSequences { get; set; } = NoTaskSequences;

    /// <summary>Tags exported with the device list (e.g. its site); not visible over WinRM.</summary>
    public IReadOnlyList<string> Tags { get; set; } = NoProcesses;

    /// <summary>The device clock minus the real (fleet) clock.</summary>
    public TimeSpan ClockSkew { get; set; }

    /// <summary>The device's time zone offset, shown in <c>Win32_OperatingSystem.LocalDateTime</c>.</summary>
    public TimeSpan UtcOffset { get; set; }

    /// <summary>Delay before every answer.</summary>
    public TimeSpan Latency { get; set; }

    public DeviceBehavior Behavior { get; set; } = DeviceBehavior.Normal;

    /// <summary>Share of requests (0..1) answered with a WMI provider fault.</summary>
    public double FaultRate { get; set; }

    /// <summary>False: <c>SetClientProvisioningMode</c> is accepted, but the mode stays as it was.</summary>
    public bool FixTakesEffect { get; set; } = true;

    /// <summary>How the fix call is answered once it has (or has not) taken effect.</summary>
    public FixCallAnswer FixCallAnswer { get; set; } = FixCallAnswer.Normal;

    /// <summary>What a fix that takes effect leaves in the registry.</summary>
    public RegistryAfterFix RegistryAfterFix { get; set; } = RegistryAfterFix.Written;

    /// <summary>False: the CcmExec registry key is missing although <c>root\ccm</c> answers (a broken client).</summary>
    public bool CcmExecKeyPresent { get; set; } = true;

    /// <summary>
    /// The running task sequence ends by itself this long after it started (the provisioning enabled
    /// time, or when the device joined the fleet if that is missing): its processes exit, its
    /// execution requests complete and the client leaves provisioning mode.
    /// </summary>
    public TimeSpan? TaskSequenceEndsAfter { get; set; }

    /// <summary>True: the client leaves provisioning mode by itself once its own timeout has passed.</summary>
    public bool LeavesProvisioningAfterOwnTimeout { get; set; }

    /// <summary>The device's own current time: the fleet clock plus <see cref="ClockSkew"/>.</summary>
    public DateTimeOffset CurrentTime => _time.GetUtcNow() + ClockSkew;

    public bool InProvisioningMode => string.Equals(ProvisioningMode, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>A live task sequence: TSManager.exe, or a running execution request that is not a dead sequence's leftover.</summary>
    public bool TaskSequenceRunning =>
        RunningProcesses.Any(p => p.Equals("TSManager.exe", StringComparison.OrdinalIgnoreCase))
        || TaskSequences.Any(t => t.IsRunning && !t.IsDead);

    /// <summary>The timeout the client itself applies (missing or 0 = 2880 minutes).</summary>
    public uint EffectiveMaxMinutes => ProvisioningMaxMinutes is null or 0 ? DefaultProvisioningMaxMinutes : ProvisioningMaxMinutes.Value;

    /// <summary>Puts the device in provisioning mode as a task sequence would, at the device's current time.</summary>
    public SimulatedDevice EnterProvisioningMode(TimeSpan? ago = null)
    {
        lock (_gate)
        {
            ProvisioningMode = "true";
            ProvisioningEnabledTime = (CurrentTime - (ago ?? TimeSpan.Zero)).ToUnixTimeSeconds();
            SystemTaskExcludes = "SchedulerStartup;SchedulerShutdown;ClientRegistrationStartup;ClientRegistrationShutdown";
        }
        return this;
    }

    internal void AttachTo(TimeProvider time, int invocationCapacity)
    {
        _time = time;
        _invocationCapacity = invocationCapacity;
        _addedAt = CurrentTime;
    }

    /// <summary>
    /// Lets the device's own processes catch up with its clock: a task sequence that ends by itself
    /// and the client's own provisioning timeout. Called before every answer, so nothing needs a timer.
    /// </summary>
    internal void CatchUp()
    {
        lock (_gate)
        {
            var now = CurrentTime;
            if (TaskSequenceEndsAfter is { } duration)
            {
                var started = ProvisioningEnabledTime is { } t ? DateTimeOffset.FromUnixTimeSeconds(t) : _addedAt;
                if (now >= started + duration)
                {
                    RunningProcesses = [.. RunningProcesses.Where(p =>
                        !p.Equals("TSManager.exe", StringComparison.OrdinalIgnoreCase)
                        && !p.Equals("SetupHost.exe", StringComparison.OrdinalIgnoreCase))];
                    TaskSequences = [.. TaskSequences.Select(ts => ts.IsRunning && !ts.IsDead
                        ? ts with { State = SimulatedTaskSequence.Completed, CompletionState = SimulatedTaskSequence.Success }
                        : ts)];
                    ProvisioningMode = "false";
                    SystemTaskExcludes = string.Empty;
                    TaskSequenceEndsAfter = null;
                }
            }

            if (LeavesProvisioningAfterOwnTimeout && InProvisioningMode && ProvisioningEnabledTime is { } enabled
                && now >= DateTimeOffset.FromUnixTimeSeconds(enabled).AddMinutes(EffectiveMaxMinutes))
            {
                ProvisioningMode = "false";
                SystemTaskExcludes = string.Empty;
            }
        }
    }

    /// <summary>What <c>SMS_Client.SetClientProvisioningMode(bEnable)</c> does on a real client.</summary>
    internal void SetClientProvisioningMode(bool enable)
    {
        lock (_gate)
        {
            if (!FixTakesEffect)
            {
                return;
            }

            ProvisioningMode = enable ? "true" : "false";
            if (enable)
            {
                ProvisioningEnabledTime = CurrentTime.ToUnixTimeSeconds();
                return;
            }

            SystemTaskExcludes = string.Empty;
            switch (RegistryAfterFix)
            {
                case RegistryAfterFix.ValueDeleted:
                    ProvisioningMode = null;
                    break;
                case RegistryAfterFix.KeyDeleted:
                    CcmExecKeyPresent = false;
                    break;
            }
        }
    }

    internal void Record(InvocationRecord record)
    {
        lock (_gate)
        {
            _invocations ??= [];
            if (_invocations.Count >= _invocationCapacity)
            {
                _invocations.RemoveAt(0);
            }
            _invocations.Add(record);
        }
    }

    internal IReadOnlyList<InvocationRecord> Invocations()
    {
        lock (_gate)
        {
            return _invocations is null ? [] : [.. _invocations];
        }
    }

    internal void ClearInvocations()
    {
        lock (_gate)
        {
            _invocations = null;
        }
    }

    internal DateTimeOffset InvocationTime() => _time.GetUtcNow();
}
