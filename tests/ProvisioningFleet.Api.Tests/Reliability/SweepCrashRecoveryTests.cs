using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;
using Xunit.Abstractions;

namespace ProvisioningFleet.Api.Tests.Reliability;

/// <summary>
/// Issue 16, item 14: the service, as its own process, is SIGKILLed in the middle of a sweep while its workers
/// hold shards. Started again with the default settings, it finishes that sweep within minutes (not after
/// Hangfire's 30-minute invisibility timeout), a sweep requested after the restart runs behind it, and no
/// simulated client receives the fix twice.
/// </summary>
public sealed class SweepCrashRecoveryTests(ITestOutputHelper output)
{
    private const string UserName = "fleet-svc";
    private const string Password = "S1mulated-pass";
    private const int DeviceCount = 240;

    [Fact]
    public async Task A_sweep_killed_mid_run_completes_within_minutes_of_the_restart_and_fixes_no_device_twice()
    {
        await using var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = { new SimulatedUser(UserName, Password) } });
        var devices = Enumerable.Range(0, DeviceCount).Select(i =>
        {
            // Every answer takes a while, so that the kill finds shards half done and fixes in flight.
            var device = new SimulatedDevice($"pc-{i:D3}.crash.test") { Latency = TimeSpan.FromMilliseconds(150) };
            return i % 6 == 0 ? device.EnterProvisioningMode(TimeSpan.FromDays(3)) : device;
        }).ToList();
        foreach (var device in devices)
        {
            simulator.Fleet.Add(device);
        }

        var overdue = devices.Where(d => d.InProvisioningMode).ToList();
        int FixesSentTo(SimulatedDevice device) => simulator.Fleet.Invocations(device.HostName).Count(i => i.Method == "SetClientProvisioningMode");
        await using var service = await FleetServiceProcess.StartAsync(new Dictionary<string, string>
        {
            ["Fleet__WinRm__AllowUnencrypted"] = "true",
            ["Fleet__Engine__ShardSize"] = "20",
            ["Fleet__Engine__WorkerCount"] = "2",
            ["Fleet__Engine__ProbeConcurrency"] = "4",
            ["Fleet__Engine__RecordBatchSize"] = "5",
            ["Fleet__Engine__VerifyInterval"] = "00:00:00.5",
        });
        using var admin = service.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "sim", userName = UserName, password = Password, allowedHosts = new[] { "127.0.0.1" } })).StatusCode);
        var import = await admin.PostAsJsonAsync("/api/v1/devices/import", devices.Select(d => new
        {
            hostName = d.HostName,
            endpoint = simulator.EndpointFor(d.HostName).ToString(),
            transport = "Http",
            authentication = "Basic",
            credential = "sim",
        }));
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());

        var started = await admin.PostAsJsonAsync("/api/v1/sweeps", new { });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var sweepId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        // Killed with shards taken and devices left: some written, some in flight, the rest not started.
        var before = await Eventually.MatchAsync(
            () => ReadSweepAsync(admin, sweepId), s => s.Probed >= DeviceCount / 4, "a quarter of the sweep", TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(50));
        await service.KillAsync();
        var fixesAtKill = overdue.Sum(FixesSentTo);
        output.WriteLine($"Killed at {before.Probed}/{DeviceCount} probed, {fixesAtKill} fixes sent");
        Assert.True(before.Probed < DeviceCount, $"The sweep ended before the kill: {before}");

        var restart = Stopwatch.StartNew();
        await service.StartAgainAsync();
        var next = await admin.PostAsJsonAsync("/api/v1/sweeps", new { });
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        var nextId = JsonDocument.Parse(await next.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        var recovered = await Eventually.MatchAsync(
            () => ReadSweepAsync(admin, sweepId), s => s.Status != "Running", "the killed sweep to finish", TimeSpan.FromMinutes(4), TimeSpan.FromSeconds(1));
        output.WriteLine($"Killed sweep {recovered.Status} {restart.Elapsed} after the restart began");
        Assert.Equal(("Completed", DeviceCount, DeviceCount), (recovered.Status, recovered.Total, recovered.Probed));
        var queued = await Eventually.MatchAsync(
            () => ReadSweepAsync(admin, nextId), s => s.Status is not ("Queued" or "Running"), "the sweep requested after the restart", TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
        output.WriteLine($"Next sweep {queued.Status} {restart.Elapsed} after the restart began");
        Assert.Equal(("Completed", DeviceCount), (queued.Status, queued.Probed));

        // Never a second fix; every stuck client fixed, by the killed sweep or (a fix the kill stopped before it was sent) the next one.
        Assert.All(devices, d => Assert.True(FixesSentTo(d) <= 1, $"{d.HostName} got {FixesSentTo(d)} fixes"));
        Assert.All(overdue, d => Assert.False(d.InProvisioningMode, $"{d.HostName} is still in provisioning mode"));
        Assert.Equal(overdue.Count, overdue.Sum(FixesSentTo));
        Assert.Equal(overdue.Count, recovered.Remediated + queued.Remediated);
        Assert.DoesNotContain(devices.Where(d => !overdue.Contains(d)), d => FixesSentTo(d) > 0);
    }

    private sealed record SweepReading(string Status, int Total, int Probed, int Remediated);

    private static async Task<SweepReading> ReadSweepAsync(HttpClient admin, long id)
    {
        var sweep = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/sweeps/{id}")).RootElement;
        return new SweepReading(
            sweep.GetProperty("status").GetString()!, sweep.GetProperty("total").GetInt32(), sweep.GetProperty("probed").GetInt32(), sweep.GetProperty("remediated").GetInt32());
    }
}
