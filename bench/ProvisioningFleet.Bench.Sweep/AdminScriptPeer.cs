using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Bench.Sweep;

/// <summary>
/// The sweep an administrator writes today (AdminScript/admin_sweep.py: Debian's python3-winrm, 32 threads, one
/// WS-Man call per value read), run as its own process against a sample of the bench's simulated fleet. The first
/// run may fix the sample's stuck clients; <c>restore</c> puts them back as they were, so that our first sweep
/// still finds the fleet as generated.
/// </summary>
public sealed class AdminScriptPeer(DirectoryInfo work, SimulatedFleetHost simulator, IReadOnlyList<SimulatedDevice> sample, int threads)
{
    public const string Python = "/usr/bin/python3";

    public sealed record Figures(int Devices, double Seconds, double DevicesPerSecond, long Calls, double CpuSeconds, string Outcomes);

    public async Task<Figures> RunAsync(string title, bool restore)
    {
        Console.WriteLine($"{title}: {sample.Count} devices, {threads} threads");
        var csv = Path.Combine(work.FullName, "script-devices.csv");
        var rows = new StringBuilder("hostName,endpoint\n");
        foreach (var device in sample)
        {
            rows.Append(device.HostName).Append(',').Append(simulator.EndpointFor(device.HostName)).Append('\n');
        }

        await File.WriteAllTextAsync(csv, rows.ToString());
        var saved = sample.Select(d => (Device: d, d.ProvisioningMode, d.ProvisioningEnabledTime, d.SystemTaskExcludes)).ToList();
        var script = Path.Combine(AppContext.BaseDirectory, "AdminScript", "admin_sweep.py");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { script, csv, UserName, Password, threads.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        // The proxy variables of a shell must not send loopback traffic elsewhere.
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The admin's script failed (exit {process.ExitCode}; is python3-winrm installed?): {await error}");
        }

        using var result = JsonDocument.Parse(await output);
        var root = result.RootElement;
        var figures = new Figures(
            root.GetProperty("devices").GetInt32(),
            root.GetProperty("seconds").GetDouble(),
            root.GetProperty("devicesPerSecond").GetDouble(),
            root.GetProperty("calls").GetInt64(),
            root.GetProperty("cpuSeconds").GetDouble(),
            string.Join(", ", root.GetProperty("outcomes").EnumerateObject().Select(o => $"{o.Name} {o.Value.GetInt32()}")));
        Console.WriteLine($"  script: {figures.Devices} devices in {figures.Seconds:F1} s ({figures.DevicesPerSecond:F1} devices/s), {figures.Calls} WS-Man calls " +
                          $"({(double)figures.Calls / Math.Max(1, figures.Devices):F2} per device), python CPU {figures.CpuSeconds:F1} s; {figures.Outcomes}");
        if (restore)
        {
            foreach (var (device, mode, enabledAt, excludes) in saved)
            {
                device.ProvisioningMode = mode;
                device.ProvisioningEnabledTime = enabledAt;
                device.SystemTaskExcludes = excludes;
            }
        }

        return figures;
    }

    private const string UserName = SweepBenchmark.UserName;
    private const string Password = SweepBenchmark.Password;
}
