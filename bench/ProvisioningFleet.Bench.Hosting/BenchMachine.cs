namespace ProvisioningFleet.Bench.Hosting;

/// <summary>What a figure needs said beside it: the machine it was measured on, and how busy that machine was.</summary>
public static class BenchMachine
{
    public static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : "unknown CPU";

    // Other work on the machine distorts every figure; the load average says how much there was.
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
