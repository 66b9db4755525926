using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Remediations;
using ProvisioningFleet.Api.Sweeps;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

/// <summary>
/// A simulated fleet behind real WS-Man over HTTP (Basic), registered in the API under names of its
/// own, so that tests sharing a class's database never see each other's devices.
/// </summary>
internal sealed class EngineFleet : IAsyncDisposable
{
    public const string UserName = "fleet-svc";
    private const string Password = "S1mulated-pass";

    /// <summary>Settings every engine test host uses: Basic over HTTP to the simulator, short waits.</summary>
    public static void Configure(IDictionary<string, string?> settings)
    {
        settings["Fleet:WinRm:AllowUnencrypted"] = "true";
        settings["Fleet:WinRm:OperationTimeout"] = "00:00:05";
        settings["Fleet:Engine:ProbeTimeout"] = "00:00:05";
        settings["Fleet:Engine:RemediationTimeout"] = "00:00:10";
        settings["Fleet:Engine:VerifyAttempts"] = "3";
        settings["Fleet:Engine:VerifyInterval"] = "00:00:00.100";
        settings["Fleet:Engine:ShardSize"] = "50";
        settings["Fleet:Engine:ProbeConcurrency"] = "16";
        settings["Fleet:Engine:RecordInterval"] = "00:00:00.200";
        settings["Fleet:Engine:JobPollInterval"] = "00:00:00.250";
        settings["Fleet:Engine:QueuedSweepRetry"] = "00:00:00.250";
    }

    private EngineFleet(FleetApiFactory api, SimulatedFleetHost simulator, HttpClient admin, string tag, string credential)
    {
        Api = api;
        Simulator = simulator;
        Admin = admin;
        Tag = tag;
        Credential = credential;
    }

    public FleetApiFactory Api { get; }
    public SimulatedFleetHost Simulator { get; }
    public HttpClient Admin { get; }

    /// <summary>Every device of this fleet carries it: sweeps with it see this fleet only.</summary>
    public string Tag { get; }

    public string Credential { get; }

    public Dictionary<string, long> Ids { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static async Task<EngineFleet> StartAsync(FleetApiFactory api)
    {
        var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = { new SimulatedUser(UserName, Password) } });
        var admin = api.CreateAdminClient();
        var tag = "t" + Guid.NewGuid().ToString("N")[..10];
        var credential = "sim-" + tag;
        var created = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = credential, userName = UserName, password = Password, allowedHosts = new[] { "127.0.0.1" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *" });
        return new EngineFleet(api, simulator, admin, tag, credential);
    }

    public string HostName(string name) => $"{name}.{Tag}.test";

    /// <summary>A device in the simulator (healthy unless changed) and registered in the API.</summary>
    public async Task<SimulatedDevice> AddAsync(string name, Action<SimulatedDevice>? arrange = null, bool excluded = false)
    {
        var device = new SimulatedDevice(HostName(name));
        arrange?.Invoke(device);
        await RegisterAsync([device], excluded);
        return device;
    }

    /// <summary>Adds simulated devices to the simulator and imports them into the API in one request.</summary>
    public async Task RegisterAsync(IReadOnlyCollection<SimulatedDevice> devices, bool excluded = false)
    {
        foreach (var device in devices)
        {
            Simulator.Fleet.Add(device);
        }

        var rows = devices.Select(d => new
        {
            hostName = d.HostName,
            endpoint = Simulator.EndpointFor(d.HostName).ToString(),
            transport = "Http",
            authentication = "Basic",
            credential = Credential,
            tags = new[] { Tag },
            remediationExcluded = excluded,
        });
        var response = await Admin.PostAsJsonAsync("/api/v1/devices/import", rows);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        await using var db = Api.CreateDbContext();
        var names = devices.Select(d => d.HostName.ToLowerInvariant()).ToList();
        foreach (var row in await db.Devices.AsNoTracking().Where(d => names.Contains(d.HostNameKey)).Select(d => new { d.Id, d.HostName }).ToListAsync())
        {
            Ids[row.HostName] = row.Id;
        }
    }

    public long IdOf(SimulatedDevice device) => Ids[device.HostName];

    public int FixesSentTo(SimulatedDevice device) =>
        Simulator.Fleet.Invocations(device.HostName).Count(i => i.Method == "SetClientProvisioningMode");

    public async Task<SweepView> SweepAsync(HttpClient client, bool dryRun = false, TimeSpan? timeout = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/sweeps", new { tag = Tag, dryRun });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<SweepAccepted>(Json.Options))!;
        return await WaitForAsync(client, accepted.Id, timeout);
    }

    public static Task<SweepView> WaitForAsync(HttpClient client, long sweepId, TimeSpan? timeout = null) =>
        Eventually.MatchAsync(
            async () => (await client.GetFromJsonAsync<SweepView>($"/api/v1/sweeps/{sweepId}", Json.Options))!,
            sweep => sweep.Status is SweepStatus.Completed or SweepStatus.Cancelled or SweepStatus.Failed,
            $"sweep {sweepId} to end", timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>Until the sweep has left Queued: another sweep of its tag may be asked for only then (one queued per tag).</summary>
    public static Task<SweepView> WaitUntilStartedAsync(HttpClient client, long sweepId) =>
        Eventually.MatchAsync(
            async () => (await client.GetFromJsonAsync<SweepView>($"/api/v1/sweeps/{sweepId}", Json.Options))!,
            sweep => sweep.Status != SweepStatus.Queued,
            $"sweep {sweepId} to start", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(25));

    public async Task<RemediationView[]> RemediationsOfAsync(long sweepId)
    {
        var list = await Admin.GetFromJsonAsync<Lists.PagedList<RemediationView>>($"/api/v1/remediations?sweepId={sweepId}&pageSize=500", Json.Options);
        return [.. list!.Items];
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Simulator.DisposeAsync();
    }
}
