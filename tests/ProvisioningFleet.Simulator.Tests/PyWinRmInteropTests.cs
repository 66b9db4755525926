using System.Diagnostics;
using System.Text.Json;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>Runs only where Debian's python3-winrm is installed (.ci/run installs it).</summary>
public sealed class PyWinRmFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            using var check = Process.Start(new ProcessStartInfo(Python, ["-c", "import winrm"]) { RedirectStandardError = true })!;
            check.WaitForExit(TimeSpan.FromSeconds(20));
            return check.HasExited && check.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public PyWinRmFactAttribute()
    {
        if (!Available.Value)
        {
            Skip = $"python3-winrm is not installed ({Python} cannot import winrm): apt-get install python3-winrm";
        }
    }
}

/// <summary>
/// The interop proof: pywinrm, a WinRM client used against real Windows every day, authenticates
/// with NTLM, encrypts every message and reads the simulator's sealed answers.
/// </summary>
public sealed class PyWinRmInteropTests
{
    [PyWinRmFact]
    public async Task Pywinrm_with_NTLM_and_message_encryption_reads_probes_and_fixes_a_stuck_client()
    {
        await using var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            AllowUnencrypted = false,
            Users = [new SimulatedUser("fleet-svc", "Pr0v!sioning", "LAB")],
        });
        var device = new SimulatedDevice("stuck-42.lab.example")
        {
            EnabledTimeAsQword = true,
            RunningProcesses = ["SetupHost.exe"],
        };
        host.Fleet.Add(device);
        device.EnterProvisioningMode(TimeSpan.FromDays(4));

        var result = await RunProbeAsync(host.EndpointFor(device.HostName), "LAB\\fleet-svc", "Pr0v!sioning");

        Assert.Equal("true", result.GetProperty("modeBefore").GetProperty("sValue").GetString());
        Assert.Equal(device.ProvisioningEnabledTime.ToString(), result.GetProperty("enabledTime").GetProperty("uValue").GetString());
        Assert.Equal(["SetupHost.exe"], result.GetProperty("processes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("false", result.GetProperty("modeAfter").GetProperty("sValue").GetString());
        Assert.False(device.InProvisioningMode);
        var fix = Assert.Single(host.Fleet.Invocations(device.HostName), r => r.Method == "SetClientProvisioningMode");
        Assert.Equal("false", fix.Parameters["bEnable"]);
    }

    [PyWinRmFact]
    public async Task Pywinrm_is_refused_with_a_wrong_password()
    {
        await using var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = [new SimulatedUser("fleet-svc", "Pr0v!sioning", "LAB")] });
        host.Fleet.Add(new SimulatedDevice("pc-1.lab.example"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunProbeAsync(host.EndpointFor("pc-1.lab.example"), "LAB\\fleet-svc", "nope"));

        Assert.Contains("InvalidCredentialsError", error.Message);
    }

    private static async Task<JsonElement> RunProbeAsync(Uri endpoint, string user, string password)
    {
        // pywinrm's NTLM needs MD4, which OpenSSL 3 keeps in its legacy provider.
        var openSslConf = Path.Combine(Path.GetTempPath(), $"pf-sim-openssl-{Environment.ProcessId}.cnf");
        await File.WriteAllTextAsync(openSslConf, """
            openssl_conf = openssl_init
            [openssl_init]
            providers = provider_sect
            [provider_sect]
            default = default_sect
            legacy = legacy_sect
            [default_sect]
            activate = 1
            [legacy_sect]
            activate = 1
            """);
        var script = Path.Combine(AppContext.BaseDirectory, "Interop", "pywinrm_probe.py");
        var start = new ProcessStartInfo(PyWinRmFactAttribute.Python, [script, endpoint.ToString(), user, password])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["OPENSSL_CONF"] = openSslConf;
        start.Environment["NO_PROXY"] = "*";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pywinrm exited with {process.ExitCode}: {await stderr}");
        }
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }
}
