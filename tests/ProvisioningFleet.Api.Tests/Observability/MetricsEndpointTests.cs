using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ProvisioningFleet.Core.Verdicts;
using ProvisioningFleet.Data.Access;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Observability;

/// <summary>/metrics in Prometheus text format, read the way Prometheus reads it: a Reader key as a bearer token, over HTTP.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class MetricsEndpointTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        settings["Fleet:Metrics:DeviceCountInterval"] = "00:00:00.200";
        settings["Fleet:WinRm:AllowUnencrypted"] = "true";
        settings["Fleet:Engine:RunJobs"] = "false";
    }

    [Fact]
    public async Task Devices_by_state_are_a_gauge_that_follows_the_database_with_every_state_named()
    {
        await using (var db = Api.CreateDbContext())
        {
            db.Devices.AddRange(
                StoredDevice("gauge-overdue-1", DeviceState.Overdue),
                StoredDevice("gauge-overdue-2", DeviceState.Overdue),
                StoredDevice("gauge-healthy-1", DeviceState.Healthy));
            await db.SaveChangesAsync();
        }

        using var prometheus = await PrometheusAsync(Api);
        var text = await ScrapeUntilAsync(prometheus, t => Sample(t, "fleet_devices", "state", "Overdue") >= 2);
        Assert.Equal(2, Sample(text, "fleet_devices", "state", "Overdue"));
        Assert.True(Sample(text, "fleet_devices", "state", "Healthy") >= 1);
        foreach (var state in Enum.GetNames<DeviceState>())
        {
            Assert.NotNull(Sample(text, "fleet_devices", "state", state));
        }
        Assert.Contains("# TYPE fleet_devices gauge", text);
    }

    [Fact]
    public async Task Probes_remediations_and_winrm_errors_are_counted_as_the_engine_reports_them()
    {
        await using var fleet = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = [new SimulatedUser("sim", "sim-password")] });
        fleet.Fleet.Add(new SimulatedDevice("metrics-healthy.lab.test"));
        fleet.Fleet.Add(new SimulatedDevice("metrics-overdue.lab.test")).EnterProvisioningMode(ago: TimeSpan.FromDays(5));
        fleet.Fleet.Add(new SimulatedDevice("metrics-refusing.lab.test") { Behavior = DeviceBehavior.RefuseConnections });

        using var admin = Api.CreateAdminClient();
        (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "metrics-sim", userName = "sim", password = "sim-password", allowedHosts = new[] { "127.0.0.1" } })).EnsureSuccessStatusCode();
        var ids = new Dictionary<string, long>();
        foreach (var device in fleet.Fleet.Devices)
        {
            var created = await admin.PostAsJsonAsync("/api/v1/devices", new
            {
                hostName = device.HostName,
                endpoint = fleet.EndpointFor(device.HostName).ToString(),
                authentication = "Basic",
                credential = "metrics-sim",
            });
            created.EnsureSuccessStatusCode();
            ids[device.HostName] = (await created.Content.ReadFromJsonAsync<IdOnly>(Json.Options))!.Id;
        }

        using var operatorClient = await Api.CreateClientAsync(ApiKeyRole.Operator);
        foreach (var id in ids.Values)
        {
            (await operatorClient.PostAsync($"/api/v1/devices/{id}/probe", null)).EnsureSuccessStatusCode();
        }
        var remediation = await operatorClient.PostAsJsonAsync($"/api/v1/devices/{ids["metrics-overdue.lab.test"]}/remediate", new { justification = "metrics test" });
        remediation.EnsureSuccessStatusCode();

        using var prometheus = await PrometheusAsync(Api);
        var text = await ScrapeUntilAsync(prometheus, t => Sample(t, "fleet_remediations_total", "outcome", "Remediated") >= 1);
        Assert.True(Sample(text, "fleet_probe_duration_seconds_count", "state", "Healthy") >= 1);
        Assert.True(Sample(text, "fleet_probe_duration_seconds_count", "state", "Overdue") >= 1);
        Assert.True(Sample(text, "fleet_probe_duration_seconds_count", "state", "Unreachable") >= 1);
        Assert.Contains("# TYPE fleet_probe_duration_seconds histogram", text);
        Assert.Matches(@"fleet_probe_duration_seconds_bucket\{[^}]*le=""0\.5""", text);
        Assert.True(Sample(text, "fleet_winrm_errors_total", "category", "Network") >= 1);

        // The WinRM calls are described by the probe's own series only; that they feed no HTTP client series is
        // HttpInstrumentationTests' (here the runtime's HTTP instruments are shared with every test in the process).
        // Whatever HTTP client or DNS series there are say how calls went, never to whom.
        var simulatorPort = fleet.EndpointFor("metrics-healthy.lab.test").Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in SampleLine().Matches(text).Where(l => l.Groups["name"].Value.StartsWith("http_client_", StringComparison.Ordinal) || l.Groups["name"].Value.StartsWith("dns_", StringComparison.Ordinal)))
        {
            var labels = line.Groups["labels"].Value;
            Assert.DoesNotContain("server_address=", labels, StringComparison.Ordinal);
            Assert.DoesNotContain("network_peer_address=", labels, StringComparison.Ordinal);
            Assert.DoesNotContain("dns_question_name=", labels, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"{simulatorPort}\"", labels, StringComparison.Ordinal);
            Assert.DoesNotContain("lab.test", labels, StringComparison.Ordinal);
        }
    }

    /// <summary>A client as deploy/prometheus/prometheus.yml configures Prometheus: a Reader key sent as <c>Authorization: Bearer</c>.</summary>
    internal static async Task<HttpClient> PrometheusAsync(FleetApiFactory api)
    {
        var client = api.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await api.KeyForAsync(ApiKeyRole.Reader));
        return client;
    }

    internal static Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> ready) =>
        Eventually.MatchAsync(() => client.GetStringAsync("/metrics"), ready, "the awaited samples in /metrics",
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));

    /// <summary>The value of the sample <paramref name="metric"/> whose label <paramref name="label"/> is <paramref name="value"/>; null when absent.</summary>
    internal static double? Sample(string text, string metric, string label, string value)
    {
        foreach (Match line in SampleLine().Matches(text))
        {
            if (line.Groups["name"].Value == metric && line.Groups["labels"].Value.Contains($"{label}=\"{value}\"", StringComparison.Ordinal))
            {
                return double.Parse(line.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    private static Device StoredDevice(string hostName, DeviceState state)
    {
        var device = new Device { Endpoint = $"http://{hostName}:5985/wsman", State = state };
        device.SetHostName(hostName);
        return device;
    }

    private sealed record IdOnly(long Id);

    [GeneratedRegex(@"^http_server_request_duration_seconds_count\{[^}]*http_route=""/metrics""", RegexOptions.Multiline)]
    internal static partial Regex ScrapeRequests();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>[^ \n]+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}

/// <summary>With <c>Fleet:Metrics:RequireApiKey=false</c> (an operator's explicit choice) the scrape is anonymous.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AnonymousMetricsEndpointTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings) => settings["Fleet:Metrics:RequireApiKey"] = "false";

    [Fact]
    public async Task Anonymous_scrapes_are_answered_when_the_key_is_turned_off()
    {
        using var anonymous = Api.CreateAnonymousClient();
        var response = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE fleet_devices gauge", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>
/// The scrape's key, on a host of its own: the in-process simulator of the other tests shares ASP.NET Core's meter
/// names, and its disposal ends those series in every host of the process.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class MetricsKeyTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task The_scrape_needs_a_key_by_default_and_takes_it_as_prometheus_sends_it()
    {
        using var anonymous = Api.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        using var wrongBearer = Api.CreateAnonymousClient();
        wrongBearer.DefaultRequestHeaders.Authorization = new("Bearer", "pfk_not-a-key-00000000000000000000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongBearer.GetAsync("/metrics")).StatusCode);

        using var prometheus = await MetricsEndpointTests.PrometheusAsync(Api);
        var response = await prometheus.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("# TYPE fleet_devices gauge", await response.Content.ReadAsStringAsync());
        // The runtime's and ASP.NET Core's own metrics come along; the first scrape's request shows in a
        // later one (the exporter answers from a short cache, so "later" may take a few hundred ms).
        var second = await MetricsEndpointTests.ScrapeUntilAsync(prometheus, t => MetricsEndpointTests.ScrapeRequests().IsMatch(t));
        Assert.Matches(MetricsEndpointTests.ScrapeRequests(), second);
        Assert.Contains("# TYPE dotnet_gc_collections_total counter", second);
    }
}
