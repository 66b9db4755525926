using System.Diagnostics;
using Npgsql;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.Bench.Hosting;

/// <summary>
/// The built service as its own process, on a private PostgreSQL cluster with an empty database, so that
/// what a bench measures is the real thing over real HTTP: a production start-up (migrations included),
/// a bootstrap Admin key, a key-ring certificate of its own. Stopped with SIGTERM, as an orchestrator would.
/// </summary>
public sealed class BenchService : IAsyncDisposable
{
    public const string AdminKey = "pfk_bench-admin-key-0123456789abcdef";
    private const string Database = "fleet_bench";

    private readonly LocalPostgresCluster _cluster;
    private readonly string _certificate;
    private readonly ServiceProcess _service;

    private BenchService(LocalPostgresCluster cluster, string certificate, ServiceProcess service, int port)
    {
        _cluster = cluster;
        _certificate = certificate;
        _service = service;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process => _service.Process;

    public Uri BaseAddress { get; }

    public string ConnectionString => _cluster.ConnectionString(Database);

    /// <summary>
    /// Starts the cluster in <paramref name="work"/>, then <paramref name="apiDll"/> with <paramref name="settings"/>
    /// (environment variables) on top of the ones every bench needs; returns when the service is ready.
    /// Each line the service writes goes to <paramref name="output"/> or <paramref name="error"/>.
    /// </summary>
    public static async Task<BenchService> StartAsync(
        string apiDll, DirectoryInfo work, IReadOnlyDictionary<string, string> settings, Action<string> output, Action<string> error)
    {
        var cluster = await LocalPostgresCluster.StartAsync(Path.Combine(work.FullName, "pg"), deleteOnDispose: true, CancellationToken.None);
        await using (var admin = new NpgsqlConnection(cluster.ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        var certificate = Path.Combine(work.FullName, "keyring.pfx");
        KeyRingCertificate.CreateSelfSigned(certificate, "bench", TimeProvider.System);
        var port = FreePort.OnLoopback();
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Fleet"] = cluster.ConnectionString(Database),
            ["FLEET_ADMIN_API_KEY"] = AdminKey,
            ["Fleet__DataProtection__CertificatePath"] = certificate,
            ["Fleet__DataProtection__CertificatePassword"] = "bench",
            ["Logging__LogLevel__Default"] = "Warning",
            // The simulated fleet listens on loopback.
            ["Fleet__WinRm__AllowLabEndpoints"] = "true",
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        var process = ServiceProcess.Start(apiDll, ["--urls", $"http://127.0.0.1:{port}"], environment, Path.GetDirectoryName(apiDll)!, output, error);
        var service = new BenchService(cluster, certificate, process, port);
        try
        {
            await process.WaitUntilReadyAsync(service.BaseAddress, TimeSpan.FromMinutes(2));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of the service signed in with the bench's Admin key.</summary>
    public HttpClient CreateAdminClient(HttpMessageHandler? handler = null)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        File.Delete(_certificate);
        await _cluster.DisposeAsync();
    }
}
