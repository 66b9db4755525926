using System.Net.Http.Json;
using System.Text.Json;
using ProvisioningFleet.Api.Demo;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Demo;

/// <summary>
/// Demo mode on the test database (a connection string given, so no private cluster): the simulated
/// fleet lands in the inventory and its first sweep finds and fixes the stuck clients on its own.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DemoFleetTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private const int Devices = 300;
    private readonly string _dataFolder = Directory.CreateTempSubdirectory("fleet-demo-").FullName;

    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        settings[DemoMode.Setting] = "true";
        settings[DemoMode.UseConfiguredDatabaseSetting] = "true";
        settings[DemoFleetExtensions.SizeSetting] = Devices.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Fleet:Demo:DataPath"] = _dataFolder;
        settings["Fleet:Engine:ShardSize"] = "50";
        settings["Fleet:Engine:JobPollInterval"] = "00:00:00.250";
    }

    public override Task DisposeAsync()
    {
        Directory.Delete(_dataFolder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_demo_fleet_comes_from_its_site_and_its_first_sweep_fixes_the_overdue_clients()
    {
        using var client = Api.CreateAdminClient();

        var sweep = await PollAsync(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/sweeps");
            return list.GetProperty("items").EnumerateArray().FirstOrDefault(s => s.GetProperty("status").GetString() == "Completed") is { ValueKind: JsonValueKind.Object } done
                ? done
                : (JsonElement?)null;
        });

        var devices = await client.GetFromJsonAsync<JsonElement>("/api/v1/devices?pageSize=1");
        Assert.Equal(Devices, devices.GetProperty("total").GetInt32());
        Assert.Equal(Devices, sweep.GetProperty("probed").GetInt32());
        var overdue = sweep.GetProperty("byState").GetProperty("Overdue").GetInt32();
        Assert.True(overdue > 0, "the demo mix has stuck clients");
        Assert.True(sweep.GetProperty("byState").GetProperty("Healthy").GetInt32() > Devices / 2);
        Assert.Equal(overdue, sweep.GetProperty("remediated").GetInt32());
        // Two names of the demo site answer with another client than the site's record: found, never fixed.
        Assert.Equal(2, sweep.GetProperty("byState").GetProperty("IdentityMismatch").GetInt32());
        Assert.Equal(0, sweep.GetProperty("remediationsFailed").GetInt32());

        var credentials = await client.GetStringAsync("/api/v1/credentials");
        Assert.Contains("demo-simulator", credentials);

        // The devices came from the site through one inventory source, its obsolete records, duplicates and printers skipped.
        var source = (await client.GetFromJsonAsync<JsonElement>("/api/v1/inventory-sources")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(("demo-site", Devices), (source.GetProperty("name").GetString(), source.GetProperty("devices").GetInt32()));
        // The demo's own sync, the source's first run: its schedule (every 10 minutes) may have synced again since.
        var runs = await client.GetFromJsonAsync<JsonElement>($"/api/v1/inventory-sources/{source.GetProperty("id").GetInt64()}/runs");
        var run = runs.GetProperty("items").EnumerateArray().Last();
        Assert.Equal(("Completed", Devices), (run.GetProperty("status").GetString(), run.GetProperty("created").GetInt32()));
        var reasons = run.GetProperty("skipped").EnumerateArray().Select(s => s.GetProperty("reason").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "Obsolete", "Duplicate", "NotAClient" }, reasons);
    }

    private static Task<JsonElement> PollAsync(Func<Task<JsonElement?>> probe) =>
        Eventually.GetAsync(probe, "the demo fleet's answer", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(250));
}
