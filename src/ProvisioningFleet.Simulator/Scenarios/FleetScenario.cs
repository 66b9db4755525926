using System.Globalization;
using ProvisioningFleet.Simulator.Fleet;

namespace ProvisioningFleet.Simulator.Scenarios;

/// <summary>
/// Builds a realistic fleet from a <see cref="FleetMix"/>: mostly healthy clients with varied but
/// plausible registry values and small clock skews, and the stated shares of stuck, busy, missing and
/// misbehaving ones. Deterministic for a given mix, seed and clock.
/// </summary>
public static class FleetScenario
{
    private static readonly string[][] TagSets =
        [["site-a", "ring-0"], ["site-a", "ring-1"], ["site-b", "ring-1"], ["site-b", "ring-2"], ["site-c", "ring-2"], ["site-d", "ring-2"]];

    private static readonly string[] TaskSequenceProcesses = ["TSManager.exe"];
    private static readonly string[] UpgradeProcesses = ["TSManager.exe", "SetupHost.exe"];
    private const string ProvisioningExcludes = "SchedulerStartup;SchedulerShutdown;ClientRegistrationStartup;ClientRegistrationShutdown";

    public static IReadOnlyList<SimulatedDevice> Generate(
        int devices,
        double overdue = 0.02,
        double tsRunning = 0.01,
        double unreachable = 0.01,
        double noClient = 0.005,
        double provisioning = 0.01,
        double accessDenied = 0.002,
        double flaky = 0.002,
        int seed = 1,
        TimeProvider? time = null) =>
        Generate(new FleetMix
        {
            Devices = devices,
            Overdue = overdue,
            TsRunning = tsRunning,
            Unreachable = unreachable,
            NoClient = noClient,
            Provisioning = provisioning,
            AccessDenied = accessDenied,
            Flaky = flaky,
            Seed = seed,
        }, time);

    public static IReadOnlyList<SimulatedDevice> Generate(FleetMix mix, TimeProvider? time = null)
    {
        mix.Validate();
        var random = new Random(mix.Seed);
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var width = Math.Max(5, mix.Devices.ToString(CultureInfo.InvariantCulture).Length);
        var result = new List<SimulatedDevice>(mix.Devices);
        Span<byte> guid = stackalloc byte[16];

        for (var i = 1; i <= mix.Devices; i++)
        {
            var device = new SimulatedDevice($"{mix.HostPrefix}{i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')}.{mix.Domain}");
            random.NextBytes(guid);
            device.ClientId = "GUID:" + new Guid(guid).ToString().ToUpperInvariant();
            device.Tags = TagSets[random.Next(TagSets.Length)];
            // Most clocks are within two minutes; one in a hundred is hours off.
            device.ClockSkew = random.Next(100) == 0
                ? TimeSpan.FromMinutes(random.Next(-180, 181))
                : TimeSpan.FromSeconds(random.Next(-120, 121));
            device.UtcOffset = TimeSpan.FromMinutes(60 * random.Next(-8, 10));
            device.ProvisioningMaxMinutes = random.Next(4) switch { 0 => null, 1 => 0, 2 => 2880, _ => 1440 };
            device.EnabledTimeAsQword = random.Next(2) == 0;
            var deviceNow = now + device.ClockSkew;

            var draw = random.NextDouble();
            if ((draw -= mix.Overdue) < 0)
            {
                var pastTimeout = device.EffectiveMaxMinutes + 90 + random.Next(0, 7 * 24 * 60);
                EnterProvisioning(device, deviceNow.AddMinutes(-pastTimeout));
            }
            else if ((draw -= mix.TsRunning) < 0)
            {
                EnterProvisioning(device, deviceNow.AddMinutes(-random.Next(5, 120)));
                var upgrade = random.Next(2) == 0;
                device.RunningProcesses = upgrade ? UpgradeProcesses : TaskSequenceProcesses;
                device.TaskSequences = [new SimulatedTaskSequence(
                    $"{{{NewGuid(random).ToString().ToUpperInvariant()}}}", upgrade ? "PS100071" : "PS100042", "PS12345A", SimulatedTaskSequence.Running)];
            }
            else if ((draw -= mix.Unreachable) < 0)
            {
                device.Behavior = random.Next(2) == 0 ? DeviceBehavior.RefuseConnections : DeviceBehavior.Silent;
            }
            else if ((draw -= mix.NoClient) < 0)
            {
                device.ClientInstalled = false;
                device.ProvisioningMode = null;
                device.ProvisioningMaxMinutes = null;
            }
            else if ((draw -= mix.Provisioning) < 0)
            {
                EnterProvisioning(device, deviceNow.AddMinutes(-random.Next(5, (int)device.EffectiveMaxMinutes - 60)));
            }
            else if ((draw -= mix.AccessDenied) < 0)
            {
                device.Behavior = DeviceBehavior.AccessDenied;
            }
            else if ((draw -= mix.Flaky) < 0)
            {
                device.FaultRate = 0.33;
            }
            else if ((draw -= mix.DeadTaskSequence) < 0)
            {
                EnterProvisioning(device, deviceNow.AddMinutes(-(device.EffectiveMaxMinutes + 90 + random.Next(0, 7 * 24 * 60))));
                device.TaskSequences = [new SimulatedTaskSequence(
                    $"{{{NewGuid(random).ToString().ToUpperInvariant()}}}", "PS100042", "PS12345A", SimulatedTaskSequence.Running, SimulatedTaskSequence.Failure)];
            }
            else if ((draw -= mix.BetweenReboots) < 0)
            {
                // Between two reboots for minutes, or seemingly for days: either way the request alone must hold it.
                var ago = random.Next(2) == 0 ? random.Next(5, 60) : (int)device.EffectiveMaxMinutes + 90 + random.Next(0, 24 * 60);
                EnterProvisioning(device, deviceNow.AddMinutes(-ago));
                device.TaskSequences = [new SimulatedTaskSequence(
                    $"{{{NewGuid(random).ToString().ToUpperInvariant()}}}", "PS100071", "PS12345A", SimulatedTaskSequence.Running)];
            }
            else
            {
                device.ProvisioningMode = random.Next(100) switch { < 3 => "False", < 8 => null, _ => "false" };
                device.SystemTaskExcludes = random.Next(2) == 0 ? string.Empty : null;
                if (random.Next(2) == 0)
                {
                    // The timestamp of the last, long finished deployment stays behind.
                    device.ProvisioningEnabledTime = deviceNow.AddDays(-random.Next(30, 400)).ToUnixTimeSeconds();
                }
            }
            result.Add(device);
        }
        return result;
    }

    private static void EnterProvisioning(SimulatedDevice device, DateTimeOffset enabledAt)
    {
        device.ProvisioningMode = "true";
        device.ProvisioningEnabledTime = enabledAt.ToUnixTimeSeconds();
        device.SystemTaskExcludes = ProvisioningExcludes;
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
