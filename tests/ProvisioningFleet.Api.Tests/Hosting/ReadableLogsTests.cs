using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using ProvisioningFleet.Api.Hosting;
using ProvisioningFleet.Data.Local;

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
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProvisioningFleet.Api.dll"));
        foreach (var argument in new[] { "--demo", "--urls", $"http://127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Fleet", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Logging", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        // Production, as a container would run it: demo mode alone makes the log plain.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Fleet__Demo__DataPath"] = dataPath;
        start.Environment["Fleet__Demo__Devices"] = "100";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                Assert.False(process.HasExited, $"The demo exited:\n{output}");
                Assert.True(DateTime.UtcNow < deadline, $"The demo did not become ready:\n{output}");
                try
                {
                    // Ready, and the first sweep has fixed a stuck client (3% of the demo fleet are): the demo's first minute.
                    if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK && Lines(output).Any(l => l.Contains(": Remediated")))
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet.
                }

                await Task.Delay(250);
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, 15);
                if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            process.WaitForExit();
        }

        var lines = Lines(output);
        Assert.DoesNotContain(lines, l => l.StartsWith('{'));
        Assert.DoesNotContain(lines, l => l.Contains("Dictionary`2"));
        Assert.DoesNotContain(lines, l => l.Contains(" fail: ") || l.Contains(" crit: "));
        Assert.Contains(lines, l => l.Contains(" info: ProvisioningFleet.Api.Storage.FleetDatabaseMigrator[0] Creating the database"));
        Directory.Delete(dataPath, recursive: true);
    }

    private static List<string> Lines(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private sealed class StaticOptions(JsonConsoleFormatterOptions value) : IOptionsMonitor<JsonConsoleFormatterOptions>
    {
        public JsonConsoleFormatterOptions CurrentValue => value;

        public JsonConsoleFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<JsonConsoleFormatterOptions, string?> listener) => null;
    }
}
