using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;
using ProvisioningFleet.Testing.Kerberos;

namespace ProvisioningFleet.Api.Tests.Kerberos;

/// <summary>
/// End to end, the way domain fleets run WinRM: devices registered through the API with Kerberos over
/// plain HTTP and a per-device spn, a simulator that refuses anything unsealed (AllowUnencrypted=false)
/// and checks tickets against its keytab, a real KDC, and a sweep that finds and fixes the overdue.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KerberosSweepTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        EngineFleet.Configure(settings);
        // Nothing in clear: Kerberos seals every message; Basic over HTTP stays refused.
        settings["Fleet:WinRm:AllowUnencrypted"] = "false";
    }

    [KerberosFact]
    public async Task A_sweep_over_sealed_Kerberos_fixes_the_overdue_and_names_an_unknown_SPN()
    {
        await TestRealm.StartAsync();
        var tag = "k" + Guid.NewGuid().ToString("N")[..10];
        var devices = Enumerable.Range(0, 24).Select(i => new SimulatedDevice($"pc-{i:00}.{tag}.a.test")).ToList();
        var overdue = devices.Where((_, i) => i % 4 == 0).ToList();
        overdue.ForEach(d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        devices[1].EnterProvisioningMode(TimeSpan.FromDays(3));
        devices[1].RunningProcesses = ["TSManager.exe"];
        await TestRealm.AddServicesAsync(devices.Select(d => d.HostName));
        var unregistered = new SimulatedDevice($"pc-nospn.{tag}.a.test");

        await using var simulator = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            AllowUnencrypted = false,
            AllowBasic = false,
            Users = [new SimulatedUser("alice", "", TestRealm.RealmA)],
            KerberosKeytab = TestRealm.Keytab,
            EnableInspection = false,
        });
        foreach (var device in devices.Append(unregistered))
        {
            simulator.Fleet.Add(device);
        }

        using var admin = Api.CreateAdminClient();
        var credential = await admin.PostAsJsonAsync("/api/v1/credentials",
            new
            {
                name = "kerberos-" + tag,
                userName = "alice",
                password = TestRealm.Password,
                domain = TestRealm.RealmA,
                // The endpoint (the simulator) and each SPN's host.
                allowedHosts = new[] { "127.0.0.1", $"*.{tag}.a.test" },
            });
        Assert.Equal(HttpStatusCode.Created, credential.StatusCode);
        await admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *" });
        // The endpoints are loopback addresses, so the SPN cannot come from them: each device names its own.
        var rows = devices.Append(unregistered).Select(d => new
        {
            hostName = d.HostName,
            endpoint = simulator.EndpointFor(d.HostName).ToString(),
            transport = "Http",
            authentication = "Kerberos",
            credential = "kerberos-" + tag,
            spn = "HTTP/" + d.HostName,
            tags = new[] { tag },
        });
        var import = await admin.PostAsJsonAsync("/api/v1/devices/import", rows);
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);

        var started = await operatorClient.PostAsJsonAsync("/api/v1/sweeps", new { tag });
        var sweep = await EngineFleet.WaitForAsync(operatorClient, (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());

        Assert.Equal(SweepStatus.Completed, sweep.Status);
        Assert.Equal(25, sweep.Probed);
        Assert.Equal(overdue.Count, sweep.Remediated);
        Assert.Equal(1, sweep.ByState["TaskSequenceRunning"]);
        Assert.Equal(24 - overdue.Count - 1, sweep.ByState["Healthy"]);
        Assert.All(overdue, d => Assert.False(d.InProvisioningMode));
        Assert.True(devices[1].InProvisioningMode);
        Assert.All(overdue, d => Assert.Single(simulator.Fleet.Invocations(d.HostName), i => i.Method == "SetClientProvisioningMode"));

        var view = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/devices?search=pc-nospn.{tag}");
        var failed = view.GetProperty("items")[0];
        Assert.Equal("HTTP/" + unregistered.HostName, failed.GetProperty("spn").GetString());
        Assert.Equal("Configuration", failed.GetProperty("lastError").GetProperty("category").GetString());
        Assert.Contains("HTTP/" + unregistered.HostName, failed.GetProperty("lastError").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_malformed_spn_is_a_validation_error_and_changes_nothing()
    {
        using var admin = Api.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/api/v1/devices", new { hostName = "pc-badspn.example", spn = "HTTP pc 1" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("spn", out _));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/devices?search=pc-badspn")).StatusCode);
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/api/v1/devices?search=pc-badspn")).GetProperty("total").GetInt32());
    }
}
