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
        var port = FreePort.OnLoopback();
        await using var service = Start(["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = await postgres.CreateDatabaseAsync(),
            ["XDG_DATA_HOME"] = dataHome,
        });
        try
        {
            await service.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}"), StartTimeout);
            var certificate = Path.Combine(dataHome, "ProvisioningFleet", "keyring-certificate.pfx");
            Assert.True(File.Exists(certificate), $"No certificate at {certificate}:\n{service.Output}");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(certificate));
            }
            var log = service.Output;
            Assert.Contains(certificate, log);
            Assert.Contains("Every instance must use the same certificate", log);
            Assert.Contains("Fleet__DataProtection__CertificatePath", log);
            Assert.Contains("re-entering every credential password", log);
        }
        finally
        {
            await service.StopAsync(TimeSpan.FromSeconds(60));
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

    [Fact]
    public async Task The_old_compose_placeholder_admin_key_stops_it_and_is_never_stored()
    {
        var database = await postgres.CreateDatabaseAsync();
        var (exitCode, output) = await RunToExitAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = database,
            ["Fleet__DataProtection__CertificatePath"] = MakeCertificate(),
            ["FLEET_ADMIN_API_KEY"] = "demo-admin-key-change-me-0123456789",
        });
        Assert.Equal(2, exitCode);
        Assert.Contains("FLEET_ADMIN_API_KEY is refused: it looks like a placeholder", output);
        Assert.DoesNotContain("   at ", output);

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var keys = new NpgsqlCommand("SELECT count(*) FROM api_keys", connection);
        Assert.Equal(0L, await keys.ExecuteScalarAsync());
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
        var port = FreePort.OnLoopback();
        await using var service = Start(["--demo", "--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?>
        {
            ["Fleet__Demo__DataPath"] = dataPath,
            ["Fleet__Demo__Devices"] = "20",
        });
        try
        {
            await service.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}"), StartTimeout);
            Assert.True(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "PG_VERSION")));
            Assert.Contains("ConnectionStrings__Fleet", service.Output);
        }
        finally
        {
            // The host shuts down gracefully and stops its PostgreSQL.
            await service.StopAsync(TimeSpan.FromSeconds(60));
        }

        Assert.False(File.Exists(Path.Combine(dataPath, "postgres", "pgdata", "postmaster.pid")), $"PostgreSQL still runs after shutdown:\n{service.Output}");
        Directory.Delete(dataPath, recursive: true);
    }

    private static async Task<(int ExitCode, string Output)> RunToExitAsync(string[] args, Dictionary<string, string?> environment)
    {
        await using var service = Start(args, environment);
        var exitCode = await service.WaitForExitAsync(StartTimeout);
        return (exitCode, service.Output);
    }

    private static ServiceProcess Start(string[] args, Dictionary<string, string?> environment) =>
        ServiceProcess.Start(
            Path.Combine(AppContext.BaseDirectory, "ProvisioningFleet.Api.dll"),
            args,
            new Dictionary<string, string?>(environment) { ["ASPNETCORE_URLS"] = environment.GetValueOrDefault("ASPNETCORE_URLS") ?? "http://127.0.0.1:0" },
            Path.GetTempPath());

    private static string MakeCertificate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"provisioningfleet-startup-{Guid.NewGuid():N}.pfx");
        Api.Credentials.KeyRingCertificate.CreateSelfSigned(path, null, TimeProvider.System);
        return path;
    }
}
