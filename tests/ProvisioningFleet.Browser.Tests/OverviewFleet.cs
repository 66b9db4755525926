using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Browser.Tests;

/// <summary>
/// The service as a person meets it: the real host on a real Kestrel port (a browser cannot reach
/// WebApplicationFactory's in-memory server), on a PostgreSQL database of its own, running Hangfire,
/// with a simulated fleet registered through the API; and the machine's headless Chromium.
/// </summary>
public sealed class OverviewFleet : IAsyncLifetime
{
    public const string OverdueTag = "ring-stuck";
    public const int OverdueDevices = 3;
    public const int HealthyDevices = 5;
    public const int TotalDevices = OverdueDevices + HealthyDevices + 2;

    private readonly PostgresFixture _postgres = new();
    private SimulatedFleetHost? _simulator;

    public FleetApiFactory Api { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public HeadlessChromium Chromium { get; private set; } = null!;
    public SimulatedFleet Fleet => _simulator!.Fleet;
    public string OperatorKey { get; private set; } = "";
    public string ReaderKey { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = [new SimulatedUser("browser-sim", "browser-sim-password")] });
        for (var i = 1; i <= OverdueDevices; i++)
        {
            var device = Fleet.Add(new SimulatedDevice($"stuck-{i:00}.lab.test") { Tags = [OverdueTag] });
            device.EnterProvisioningMode(ago: TimeSpan.FromDays(4));
        }
        for (var i = 1; i <= HealthyDevices; i++)
        {
            Fleet.Add(new SimulatedDevice($"healthy-{i:00}.lab.test"));
        }
        Fleet.Add(new SimulatedDevice("deploying-01.lab.test") { RunningProcesses = ["TSManager.exe"] }).EnterProvisioningMode(ago: TimeSpan.FromDays(4));
        Fleet.Add(new SimulatedDevice("offline-01.lab.test") { Behavior = DeviceBehavior.RefuseConnections });

        Api = new FleetApiFactory(await _postgres.CreateDatabaseAsync());
        Api.Settings["Fleet:WinRm:AllowUnencrypted"] = "true";
        Api.Settings["Fleet:Engine:JobPollInterval"] = "00:00:01";
        Api.Settings["Fleet:Engine:VerifyInterval"] = "00:00:00.200";
        Api.Settings["Fleet:Engine:ProbeTimeout"] = "00:00:05";
        Api.UseKestrel(0);
        Api.StartServer();
        var address = Api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));

        using var admin = CreateAdminClient();
        await RegisterFleetAsync(admin);
        OperatorKey = await IssueKeyAsync(admin, ApiKeyRole.Operator);
        ReaderKey = await IssueKeyAsync(admin, ApiKeyRole.Reader);
        Chromium = await HeadlessChromium.LaunchAsync();
    }

    /// <summary>An Admin API client over the real socket (the factory's own clients assume its in-memory server).</summary>
    public HttpClient CreateAdminClient()
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", FleetApiFactory.AdminApiKey);
        return client;
    }

    private static async Task<string> IssueKeyAsync(HttpClient admin, ApiKeyRole role)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/keys", new { name = $"browser-{role}", role = role.ToString() });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    private async Task RegisterFleetAsync(HttpClient admin)
    {
        // The hourly default would start a sweep of its own when a run crosses the hour, and the journeys follow the
        // sweep they start: the recurring sweep stays (the dashboard shows it) but fires only on 1 January.
        (await admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "browser-sim", userName = "browser-sim", password = "browser-sim-password", allowedHosts = new[] { "127.0.0.1" } })).EnsureSuccessStatusCode();
        var rows = Fleet.Devices.Select(d => new
        {
            hostName = d.HostName,
            endpoint = _simulator!.EndpointFor(d.HostName).ToString(),
            transport = "Http",
            authentication = "Basic",
            credential = "browser-sim",
            tags = d.Tags,
        });
        (await admin.PostAsJsonAsync("/api/v1/devices/import", rows)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
        await _postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class OverviewFleetCollection : ICollectionFixture<OverviewFleet>
{
    public const string Name = "Overview fleet";
}
