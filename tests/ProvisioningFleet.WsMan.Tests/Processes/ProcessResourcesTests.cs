using System.Diagnostics;
using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.WsMan.Tests.Processes;

/// <summary>The /proc reader the benches and the memory tests measure the service with, tried on this test process.</summary>
public class ProcessResourcesTests
{
    [Fact]
    public void The_memory_of_a_running_process_is_resident_and_its_peak_at_least_as_high()
    {
        var (resident, peak) = ProcessResources.ReadMemory(Environment.ProcessId);

        Assert.True(resident > 0, $"VmRSS {resident}");
        Assert.True(peak >= resident, $"VmHWM {peak} below VmRSS {resident}");
    }

    [Fact]
    public void The_cpu_time_of_a_running_process_grows_with_its_work()
    {
        var before = ProcessResources.ReadCpuTime(Environment.ProcessId);
        var spin = Stopwatch.StartNew();
        var sum = 0L;
        while (spin.ElapsedMilliseconds < 200)
        {
            sum += spin.ElapsedTicks % 7;
        }

        var after = ProcessResources.ReadCpuTime(Environment.ProcessId);

        Assert.True(before > TimeSpan.Zero, $"CPU time {before}");
        Assert.True(after >= before, $"CPU time went from {before} to {after} (spun to {sum})");
    }
}
