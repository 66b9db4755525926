using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Observability;
using ProvisioningFleet.LocalServices;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Hosting;

/// <summary>Console logs a person can read in demo mode, and JSON with scope values as fields elsewhere.</summary>
public sealed class ReadableLogsTests
{
    [Fact]
    public void Json_lines_carry_the_message_values_and_scope_values_as_fields()
    {
        var formatter = new FleetJsonConsoleFormatter(new StaticOptions(new JsonConsoleFormatterOptions
        {
            IncludeScopes = true,
            UseUtcTimestamp = true,
            TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ",
        }));
        var scopes = new LoggerExternalScopeProvider();
        using var sweep = scopes.Push(new Dictionary<string, object> { ["SweepId"] = 42L, ["Shard"] = 3 });
        using var device = scopes.Push(new Dictionary<string, object?> { ["DeviceId"] = 7L, ["HostName"] = "pc-7.corp.example" });
        using var text = scopes.Push("a scope that is only text");
        var state = new[] { new KeyValuePair<string, object?>("RemediationId", 99L), new KeyValuePair<string, object?>("{OriginalFormat}", "Remediation {RemediationId}") };
        var entry = new LogEntry<KeyValuePair<string, object?>[]>(LogLevel.Warning, "ProvisioningFleet.Api.Remediations.RemediationRunner", new EventId(5, "Fixed"), state, null, (_, _) => "Remediation 99");
        using var output = new StringWriter();

        formatter.Write(entry, scopes, output);

        var line = output.ToString();
        Assert.Single(line.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Dictionary`2", line);
        var json = JsonDocument.Parse(line).RootElement;
        Assert.Equal("Warning", json.GetProperty("LogLevel").GetString());
        Assert.Equal("ProvisioningFleet.Api.Remediations.RemediationRunner", json.GetProperty("Category").GetString());
        Assert.Equal("Remediation 99", json.GetProperty("Message").GetString());
        Assert.Equal(99, json.GetProperty("RemediationId").GetInt64());
        Assert.Equal(42, json.GetProperty("SweepId").GetInt64());
        Assert.Equal(3, json.GetProperty("Shard").GetInt32());
        Assert.Equal(7, json.GetProperty("DeviceId").GetInt64());
        Assert.Equal("pc-7.corp.example", json.GetProperty("HostName").GetString());
        Assert.Equal(["a scope that is only text"], json.GetProperty("Scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.False(json.TryGetProperty("{OriginalFormat}", out _));
        Assert.EndsWith("Z", json.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public async Task The_demo_starts_with_plain_lines_and_no_error()
    {
        Assert.True(LocalPostgresCluster.FindBinaries() is not null, LocalPostgresCluster.InstallHint);
        var dataPath = Path.Combine(Path.GetTempPath(), $"provisioningfleet-demo-logs-{Guid.NewGuid():N}");
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort.OnLoopback()}");
        // Production, as a container would run it: demo mode alone makes the log plain.
        await using var service = ServiceProcess.Start(
            Path.Combine(AppContext.BaseDirectory, "ProvisioningFleet.Api.dll"),
            ["--demo", "--urls", baseAddress.ToString()],
            new Dictionary<string, string?> { ["Fleet__Demo__DataPath"] = dataPath, ["Fleet__Demo__Devices"] = "100" },
            AppContext.BaseDirectory);
        await service.WaitUntilReadyAsync(baseAddress, TimeSpan.FromMinutes(3));
        // The first sweep fixes a stuck client (3% of the demo fleet are): the demo's first minute.
        await Eventually.MatchAsync(() => Task.FromResult(Lines(service.Output)), lines => lines.Any(l => l.Contains(": Remediated")),
            "a remediation in the demo's log", TimeSpan.FromMinutes(3));
        await service.StopAsync(TimeSpan.FromSeconds(60));

        var lines = Lines(service.Output);
        Assert.DoesNotContain(lines, l => l.StartsWith('{'));
        Assert.DoesNotContain(lines, l => l.Contains("Dictionary`2"));
        Assert.DoesNotContain(lines, l => l.Contains(" fail: ") || l.Contains(" crit: "));
        Assert.Contains(lines, l => l.Contains(" info: ProvisioningFleet.Api.Storage.FleetDatabaseMigrator[0] Creating the database"));
        Directory.Delete(dataPath, recursive: true);
    }

    private static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    private sealed class StaticOptions(JsonConsoleFormatterOptions value) : IOptionsMonitor<JsonConsoleFormatterOptions>
    {
        public JsonConsoleFormatterOptions CurrentValue => value;

        public JsonConsoleFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<JsonConsoleFormatterOptions, string?> listener) => null;
    }
}
