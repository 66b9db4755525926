using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using ProvisioningFleet.LocalServices;
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
    public async Task Without_a_key_ring_certificate_it_starts_on_one_of_its_own_and_warns()
    {
        // LocalApplicationData follows XDG_DATA_HOME on Linux: the certificate lands here, not in the real home folder.
        var dataHome = Directory.CreateTempSubdirectory("provisioningfleet-xdg-").FullName;
        var port = FreePort();
        using var process = Start(["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = await postgres.CreateDatabaseAsync(),
            ["XDG_DATA_HOME"] = dataHome,
        });
        var output = CollectOutput(process);
        try
        {
            await WaitUntilReadyAsync(process, port, output);
            var certificate = Path.Combine(dataHome, "ProvisioningFleet", "keyring-certificate.pfx");
            Assert.True(File.Exists(certificate), $"No certificate at {certificate}:\n{output}");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate));
            }
            var log = output.ToString();
            Assert.Contains(certificate, log);
            Assert.Contains("Every instance must use the same certificate", log);
            Assert.Contains("Fleet__DataProtection__CertificatePath", log);
            Assert.Contains("re-entering every credential password", log);
        }
        finally
        {
            await StopAsync(process);
            Directory.Delete(dataHome, recursive: true);
        }
    }

    [Fact]
    public async Task A_configured_key_ring_certificate_that_does_not_exist_stops_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"provisioningfleet-missing-{Guid.NewGuid():N}.pfx");
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = await postgres.CreateDatabaseAsync(),
            ["Fleet__DataProtection__CertificatePath"] = missing,
        });
        Assert.Equal(2, exitCode);
        Assert.Contains($"{missing} (Fleet:DataProtection:CertificatePath) does not exist", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(File.Exists(missing));
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
        var output = CollectOutput(process);
        try
        {
            await WaitUntilReadyAsync(process, port, output);
            Assert.True(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "PG_VERSION")));
            Assert.Contains("ConnectionStrings__Fleet", output.ToString());
        }
        finally
        {
            // The host shuts down gracefully and stops its PostgreSQL.
            await StopAsync(process);
        }

        Assert.False(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "postmaster.pid")), $"PostgreSQL still runs after shutdown:\n{output}");
        Directory.Delete(dataPath, recursive: true);
    }

    private static System.Text.StringBuilder CollectOutput(Process process)
    {
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return output;
    }

    private static async Task WaitUntilReadyAsync(Process process, int port, System.Text.StringBuilder output)
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
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or busy starting.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"The service did not become ready (last status {status?.ToString() ?? "none"}):\n{output}");
    }

    /// <summary>SIGTERM, as an orchestrator stops it: a graceful shutdown.</summary>
    private static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(exit.Token);
        }
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
