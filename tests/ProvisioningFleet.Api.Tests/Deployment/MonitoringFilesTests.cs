using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProvisioningFleet.Api.Notifications;
using ProvisioningFleet.Api.Tests.Engine;
using ProvisioningFleet.Api.Tests.Notifications;
using ProvisioningFleet.Api.Tests.Observability;
using ProvisioningFleet.Data.Sweeps;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Deployment;

/// <summary>
/// deploy/prometheus and deploy/grafana: well-formed (promtool when installed, parsed either way), and built
/// only on series a running service really exports.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class MonitoringFilesTests(PostgresFixture postgres) : EngineFleetTest(postgres)
{
    private const string Rules = "deploy/prometheus/alerts.yml";
    private const string RuleTests = "deploy/prometheus/alerts.test.yml";
    private const string Dashboard = "deploy/grafana/provisioningfleet.json";

    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        NotificationSettings.Configure(settings);
        settings["Fleet:Metrics:DeviceCountInterval"] = "00:00:00.200";
    }

    [Fact]
    public void Alert_rules_cover_the_issue_and_each_has_a_severity_and_a_summary()
    {
        var groups = (List<object>)RepositoryFiles.ReadYaml(Rules).Single()["groups"];
        var rules = groups.Cast<Dictionary<object, object>>().SelectMany(g => ((List<object>)g["rules"]).Cast<Dictionary<object, object>>()).ToList();
        Assert.Equal(
            ["FleetNotificationsFailing", "FleetOverdueClientsHigh", "FleetRemediationsFailing", "FleetServiceDown", "FleetServiceNotScraped",
             "FleetSweepFailed", "FleetSweepNotCompletedOnSchedule", "FleetWinRmErrorRateHigh"],
            rules.Select(r => (string)r["alert"]).Order());
        Assert.All(rules, rule =>
        {
            Assert.False(string.IsNullOrWhiteSpace((string)rule["expr"]));
            Assert.Contains((string)((Dictionary<object, object>)rule["labels"])["severity"], new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace((string)((Dictionary<object, object>)rule["annotations"])["summary"]));
        });
    }

    [Fact]
    public void The_scrape_job_sends_a_key_from_a_file_as_the_service_requires()
    {
        var jobs = (List<object>)RepositoryFiles.ReadYaml("deploy/prometheus/prometheus.yml").Single()["scrape_configs"];
        var job = jobs.Cast<Dictionary<object, object>>().Single(j => (string)j["job_name"] == "provisioningfleet");
        var authorization = (Dictionary<object, object>)job["authorization"];
        Assert.Equal("Bearer", authorization["type"]);
        Assert.StartsWith("/", (string)authorization["credentials_file"]);
        Assert.False(authorization.ContainsKey("credentials"), "the key belongs in a file, not in prometheus.yml");
    }

    [Fact]
    public async Task Promtool_accepts_the_rules_their_unit_tests_and_the_dashboard_queries()
    {
        if (Promtool() is not { } promtool)
        {
            // Not installed here (apt-get install prometheus brings it): the other tests still parse every file.
            return;
        }

        Assert.Equal(0, await RunAsync(promtool, "check", "rules", RepositoryFiles.PathOf(Rules)));
        Assert.Equal(0, await RunAsync(promtool, "test", "rules", RepositoryFiles.PathOf(RuleTests)));

        // Grafana's $__rate_interval made concrete, each panel query as a recording rule: promtool parses the PromQL.
        var file = Path.Combine(Path.GetTempPath(), $"fleet-dashboard-queries-{Guid.NewGuid():N}.yml");
        try
        {
            var records = DashboardQueries().Select((expr, i) => $"      - record: dashboard:query{i}\n        expr: '{expr.Replace("$__rate_interval", "5m").Replace("'", "''")}'");
            await File.WriteAllTextAsync(file, "groups:\n  - name: dashboard\n    rules:\n" + string.Join("\n", records) + "\n");
            Assert.Equal(0, await RunAsync(promtool, "check", "rules", file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_rules_and_the_dashboard_use_only_series_the_service_exports()
    {
        // Everything that feeds the metrics happens once: a sweep with a fix and an unreachable device, a notification.
        await Fleet.AddAsync("metrics-stuck", d => d.EnterProvisioningMode(TimeSpan.FromDays(3)));
        await Fleet.AddAsync("metrics-down", d => d.Behavior = DeviceBehavior.RefuseConnections);
        Assert.Equal(SweepStatus.Completed, (await Fleet.SweepAsync(Fleet.Admin)).Status);
        await using var receiver = await HttpReceiver.StartAsync();
        var created = await Fleet.Admin.PostAsJsonAsync("/api/v1/notifications", new { name = "metrics-hook", kind = "Webhook", url = receiver.UrlFor("/m").ToString(), events = new[] { "sweep.failed" } });
        var channel = (await created.Content.ReadFromJsonAsync<NotificationChannelView>(Json.Options))!;
        Assert.Equal(HttpStatusCode.OK, (await Fleet.Admin.PostAsync($"/api/v1/notifications/{channel.Id}/test", null)).StatusCode);

        using var prometheus = await MetricsEndpointTests.PrometheusAsync(Api);
        var scrape = await MetricsEndpointTests.ScrapeUntilAsync(prometheus, text => text.Contains("fleet_notification_deliveries_total"));
        var exported = SeriesName().Matches(scrape).Select(m => m.Groups["name"].Value).ToHashSet();

        var used = Regex.Matches(RepositoryFiles.Read(Rules) + string.Join("\n", DashboardQueries()), @"\b(fleet_[a-z_]+)\b")
            .Select(m => m.Value).ToHashSet();
        Assert.Contains("fleet_notification_deliveries_total", used);
        Assert.Contains("fleet_probe_duration_seconds_bucket", used);
        Assert.All(used, name => Assert.True(exported.Contains(name), $"{name} is not in the service's /metrics: {string.Join(", ", exported.Where(e => e.StartsWith("fleet_")))}"));
    }

    [Fact]
    public void The_dashboard_is_grafana_json_on_a_prometheus_data_source_and_the_readme_points_to_it()
    {
        var dashboard = JsonDocument.Parse(RepositoryFiles.Read(Dashboard)).RootElement;
        Assert.Equal("provisioningfleet", dashboard.GetProperty("uid").GetString());
        var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
        Assert.True(panels.Count >= 10);
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        Assert.All(panels, p =>
        {
            Assert.Equal("${datasource}", p.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.NotEmpty(p.GetProperty("targets").EnumerateArray());
        });
        Assert.Contains(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        Assert.Contains(Dashboard, RepositoryFiles.Read("README.md"));
        Assert.Contains(Rules, RepositoryFiles.Read("README.md"));
    }

    private static IEnumerable<string> DashboardQueries() =>
        JsonDocument.Parse(RepositoryFiles.Read(Dashboard)).RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();

    private static string? Promtool() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "promtool")).FirstOrDefault(File.Exists);

    private static async Task<int> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {await output}{await error}");
        return process.ExitCode;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )", RegexOptions.Multiline)]
    private static partial Regex SeriesName();
}
