using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Npgsql;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.Testing;

/// <summary>
/// The built service (ProvisioningFleet.Api.dll next to the test assembly) as its own process on a private
/// PostgreSQL cluster, for the tests that break real processes: they SIGKILL it (<see cref="KillAsync"/>),
/// start it again on the same database and port (<see cref="StartAgainAsync"/>), stop or restart the
/// database under it (<see cref="Cluster"/>) and read its memory from /proc.
/// </summary>
public sealed class FleetServiceProcess : IAsyncDisposable
{
    private const string Database = "fleet";

    private readonly DirectoryInfo _work;
    private readonly LocalPostgresCluster _cluster;
    private readonly Dictionary<string, string?> _environment;
    private readonly Action<string> _onOutput;
    private ServiceProcess _service;

    private FleetServiceProcess(DirectoryInfo work, LocalPostgresCluster cluster, Dictionary<string, string?> environment, string adminKey, int port, Action<string> onOutput)
    {
        _work = work;
        _cluster = cluster;
        _environment = environment;
        _onOutput = onOutput;
        AdminKey = adminKey;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _service = Launch();
    }

    /// <summary>The bootstrap Admin key: random for each instance, as a real deployment's is.</summary>
    public string AdminKey { get; }

    public Uri BaseAddress { get; }

    public Process Process => _service.Process;

    /// <summary>Everything the current process has written so far.</summary>
    public string Output => _service.Output;

    public LocalPostgresCluster Cluster => _cluster;

    public string ConnectionString => _cluster.ConnectionString(Database);

    /// <summary>
    /// Starts a cluster and an empty database, then the service with <paramref name="settings"/> (environment
    /// variables) over the ones it needs to start; returns once <c>/health/ready</c> answers.
    /// </summary>
    public static async Task<FleetServiceProcess> StartAsync(IReadOnlyDictionary<string, string> settings, Action<string>? onOutput = null)
    {
        // Not CreateTempSubdirectory: its folder is owner-only, and as root the cluster runs as the postgres user.
        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"provisioningfleet-process-{Guid.NewGuid():N}"));
        LocalPostgresCluster? cluster = null;
        try
        {
            cluster = await LocalPostgresCluster.StartAsync(Path.Combine(work.FullName, "pg"), deleteOnDispose: true, CancellationToken.None);
            await using (var admin = new NpgsqlConnection(cluster.ConnectionString("postgres")))
            {
                await admin.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Database}\"", admin);
                await create.ExecuteNonQueryAsync();
            }

            var certificate = Path.Combine(work.FullName, "keyring.pfx");
            KeyRingCertificate.CreateSelfSigned(certificate, "test", TimeProvider.System);
            var adminKey = "pfk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            var environment = new Dictionary<string, string?>
            {
                ["ConnectionStrings__Fleet"] = cluster.ConnectionString(Database),
                ["FLEET_ADMIN_API_KEY"] = adminKey,
                ["Fleet__DataProtection__CertificatePath"] = certificate,
                ["Fleet__DataProtection__CertificatePassword"] = "test",
                ["Logging__LogLevel__Default"] = "Warning",
                // The simulators the tests probe listen on loopback.
                ["Fleet__WinRm__AllowLabEndpoints"] = "true",
                // As the in-process factory: every answer read from the database, so a test that stops it sees at once
                // what a request that needs it answers (kept answers would be served for their age).
                ["Fleet__Summary__MaxAge"] = "00:00:00",
                ["Fleet__DeviceList__MaxAge"] = "00:00:00",
                ["Fleet__ApiKeys__CheckMaxAge"] = "00:00:00",
            };
            foreach (var (name, value) in settings)
            {
                environment[name] = value;
            }

            var service = new FleetServiceProcess(work, cluster, environment, adminKey, FreePort.OnLoopback(), onOutput ?? (_ => { }));
            try
            {
                await service._service.WaitUntilReadyAsync(service.BaseAddress, TimeSpan.FromMinutes(2));
                // The default schedule sweeps at every full hour: a run that crosses one would get a sweep it did not
                // ask for (fixing its overdue devices, queueing ahead of its own). Tests ask for their sweeps.
                using var admin = service.CreateAdminClient();
                (await admin.PutAsJsonAsync("/api/v1/policy", new { sweepCron = "0 0 1 1 *" })).EnsureSuccessStatusCode();
                return service;
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }
        catch when (cluster is null)
        {
            work.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>SIGKILL: the process ends at once, mid-request and mid-job, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _service.Process.Kill();
        await _service.Process.WaitForExitAsync();
    }

    /// <summary>Starts the service again (after <see cref="KillAsync"/>) on the same database, port and settings; returns once it is ready.</summary>
    public async Task StartAgainAsync()
    {
        await _service.DisposeAsync();
        _service = Launch();
        await _service.WaitUntilReadyAsync(BaseAddress, TimeSpan.FromMinutes(2));
    }

    /// <summary>The process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes, from /proc.</summary>
    public (long Resident, long Peak) ReadMemory() => ProcessResources.ReadMemory(Process.Id);

    /// <summary>A client of the service signed in with the Admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return http;
    }

    private ServiceProcess Launch() =>
        ServiceProcess.Start(
            Path.Combine(AppContext.BaseDirectory, "ProvisioningFleet.Api.dll"), ["--urls", BaseAddress.GetLeftPart(UriPartial.Authority)], _environment, AppContext.BaseDirectory, _onOutput, _onOutput);

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        await _cluster.DisposeAsync();
        _work.Delete(recursive: true);
    }
}
