using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Observability;
using ProvisioningFleet.Core.Telemetry;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Observability;

/// <summary>Spans for probes and remediations on the "ProvisioningFleet" source, and log lines that carry the device in their scope.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TracesAndLogsTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    protected override void ConfigureSettings(IDictionary<string, string?> settings)
    {
        settings["Fleet:WinRm:AllowUnencrypted"] = "true";
        settings["Fleet:Engine:RunJobs"] = "false";
        settings["Fleet:Engine:VerifyInterval"] = "00:00:00.100";
    }

    [Fact]
    public void Console_logs_are_json_with_scopes_in_utc()
    {
        var console = Api.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var json = Api.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue;
        Assert.Equal(FleetJsonConsoleFormatter.FormatterName, console.FormatterName);
        Assert.True(json.IncludeScopes);
        Assert.True(json.UseUtcTimestamp);
    }

    [Fact]
    public async Task A_manual_probe_and_remediation_leave_spans_and_a_log_line_scoped_to_the_device()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FleetTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var logs = new ScopeCapture();
        await using var host = Api.WithWebHostBuilder(web => web.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(logs)));

        await using var fleet = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = [new SimulatedUser("trace", "trace-password")] });
        fleet.Fleet.Add(new Simulator.Fleet.SimulatedDevice("traced-overdue.lab.test")).EnterProvisioningMode(ago: TimeSpan.FromDays(5));
        using var admin = host.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Api-Key", FleetApiFactory.AdminApiKey);
        (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "trace-sim", userName = "trace", password = "trace-password", allowedHosts = new[] { "127.0.0.1" } })).EnsureSuccessStatusCode();
        var created = await admin.PostAsJsonAsync("/api/v1/devices", new
        {
            hostName = "traced-overdue.lab.test",
            endpoint = fleet.EndpointFor("traced-overdue.lab.test").ToString(),
            authentication = "Basic",
            credential = "trace-sim",
        });
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Json.Options)).GetProperty("id").GetInt64();

        (await admin.PostAsync($"/api/v1/devices/{id}/probe", null)).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/api/v1/devices/{id}/remediate", new { justification = "trace test" })).EnsureSuccessStatusCode();

        var mine = spans.Where(s => Equals(s.GetTagItem("fleet.device.id"), id)).ToList();
        var remediate = Assert.Single(mine, s => s.OperationName == "fleet.remediate");
        Assert.Equal("Remediated", remediate.GetTagItem("fleet.remediation.outcome"));
        Assert.Equal("traced-overdue.lab.test", remediate.GetTagItem("fleet.device.host"));
        // The manual probe, and the re-probe the remediate endpoint makes before it acts.
        var probes = mine.Where(s => s.OperationName == "fleet.probe").ToList();
        Assert.Equal(2, probes.Count);
        Assert.All(probes, p => Assert.Equal("Overdue", p.GetTagItem("fleet.device.state")));

        var line = Assert.Single(logs.Lines, l => l.Message.StartsWith("Remediation ", StringComparison.Ordinal) && l.Message.Contains("traced-overdue.lab.test", StringComparison.Ordinal));
        Assert.Equal(id, line.Scope["DeviceId"]);
        Assert.Equal(remediate.TraceId.ToString(), line.Scope["TraceId"]);
    }

    /// <summary>Keeps each log line with the scope values in force when it was written (as the JSON console writes them).</summary>
    private sealed class ScopeCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentBag<(string Message, Dictionary<string, object?> Scope)> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>();
                owner._scopes.ForEachScope((value, into) =>
                {
                    if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, item) in pairs)
                        {
                            into[key] = item is ActivityTraceId trace ? trace.ToString() : item?.ToString() is { } text && key == "TraceId" ? text : item;
                        }
                    }
                    else if (value is IEnumerable<KeyValuePair<string, object>> plain)
                    {
                        foreach (var (key, item) in plain)
                        {
                            into[key] = key == "TraceId" ? item.ToString() : item;
                        }
                    }
                }, scope);
                owner.Lines.Add((formatter(state, exception), scope));
            }
        }
    }
}
