using System.Globalization;

namespace ProvisioningFleet.LocalServices;

/// <summary>
/// Memory and CPU time of a process on this machine, read from /proc (Linux only), for the benches and
/// tests that measure the service as a separate process, where the runtime's own counters cannot reach.
/// </summary>
public static class ProcessResources
{
    /// <summary>The process's resident memory now (VmRSS) and at its peak so far (VmHWM), in bytes.</summary>
    public static (long Resident, long Peak) ReadMemory(int pid)
    {
        long? resident = null, peak = null;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                resident = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }

        // A process that has exited but is not yet reaped keeps its status file without the memory lines.
        return resident is { } r && peak is { } p
            ? (r, p)
            : throw new InvalidOperationException($"Process {pid} has no memory in /proc/{pid}/status (it has exited).");

        static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The user plus system CPU time the process has used so far.</summary>
    public static TimeSpan ReadCpuTime(int pid)
    {
        // The command name (field 2) is in parentheses and may itself hold spaces, so fields are counted after its ')'.
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // utime and stime (fields 14 and 15) are in clock ticks of USER_HZ, which Linux fixes at 100 for user space.
        var clockTicks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromTicks(clockTicks * (TimeSpan.TicksPerSecond / 100));
    }
}
