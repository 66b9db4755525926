using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using ProvisioningFleet.Data.Local;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Hosting;

/// <summary>The built service as an operator starts it: a separate process, configured by environment and arguments.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StartupTests(PostgresFixture postgres)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Without_a_connection_string_it_refuses_to_start_and_says_why()
    {
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>());
        Assert.NotEqual(0, exitCode);
        Assert.Contains("ConnectionStrings__Fleet", output);
        Assert.Contains("--demo", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_mistyped_database_name_stops_it_instead_of_creating_an_empty_database()
    {
        var existing = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync());
        var mistyped = new NpgsqlConnectionStringBuilder(existing.ConnectionString) { Database = existing.Database + "_typo" };
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = mistyped.ConnectionString,
            ["Fleet__DataProtection__CertificatePath"] = MakeCertificate(),
        });
        Assert.NotEqual(0, exitCode);
        Assert.Contains("does not exist", output);

        await using var connection = new NpgsqlConnection(existing.ConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", mistyped.Database!);
        Assert.Equal(0L, await exists.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Without_a_key_ring_certificate_it_refuses_to_start()
    {
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = await postgres.CreateDatabaseAsync(),
        });
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Fleet__DataProtection__CertificatePath", output);
    }

    [OffWindowsFact("On Windows the MI client is allowed, so there is no refusal to see.")]
    public async Task The_MI_client_off_Windows_refuses_to_start_and_says_to_use_WsMan()
    {
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = await postgres.CreateDatabaseAsync(),
            ["Fleet__DataProtection__CertificatePath"] = MakeCertificate(),
            ["Fleet__WinRm__Client"] = "Mi",
        });
        Assert.Equal(2, exitCode);
        Assert.Contains("ProvisioningFleet cannot start: Fleet__WinRm__Client=Mi", output);
        Assert.Contains("needs a Windows host with the native MI library", output);
        Assert.Contains("Use Fleet__WinRm__Client=WsMan", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Demo_mode_runs_on_a_private_postgresql_and_stops_it_on_shutdown()
    {
        Assert.True(LocalPostgresCluster.FindBinaries() is not null, LocalPostgresCluster.InstallHint);
        var dataPath = Path.Combine(Path.GetTempPath(), $"provisioningfleet-demo-test-{Guid.NewGuid():N}");
        var port = FreePort();
        using var process = Start(["--demo", "--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?>
        {
            ["Fleet__Demo__DataPath"] = dataPath,
            ["Fleet__Demo__Devices"] = "20",
        });
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = Stopwatch.StartNew();
            HttpStatusCode? status = null;
            while (deadline.Elapsed < StartTimeout && !process.HasExited)
            {
                try
                {
                    status = (await http.GetAsync("/health/ready")).StatusCode;
                    if (status == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or busy starting.
                }

                await Task.Delay(250);
            }

            Assert.True(status == HttpStatusCode.OK, $"Demo mode did not become ready:\n{output}");
            Assert.True(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "PG_VERSION")));
            Assert.Contains("ConnectionStrings__Fleet", output.ToString());
        }
        finally
        {
            if (!process.HasExited)
            {
                // SIGTERM: the host shuts down gracefully and stops its PostgreSQL.
                Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
                using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await process.WaitForExitAsync(exit.Token);
            }
        }

        Assert.False(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "postmaster.pid")), $"PostgreSQL still runs after shutdown:\n{output}");
        Directory.Delete(dataPath, recursive: true);
    }

    private static async Task<(int ExitCode, string Output)> RunToExitAsync(string[] args, Dictionary<string, string?> environment)
    {
        using var process = Start(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The service neither started nor refused to start.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Process Start(string[] args, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProvisioningFleet.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Fleet", StringComparison.OrdinalIgnoreCase) || k == "FLEET_ADMIN_API_KEY").ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    private static string MakeCertificate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"provisioningfleet-startup-{Guid.NewGuid():N}.pfx");
        Api.Credentials.KeyRingCertificate.CreateSelfSigned(path, null, TimeProvider.System);
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
