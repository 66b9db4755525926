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
    private readonly Dictionary<string, string?> _environment;
    private readonly List<ServiceProcess> _replicas = [];

    private BenchService(LocalPostgresCluster cluster, string certificate, ServiceProcess service, int port, Dictionary<string, string?> environment)
    {
        _cluster = cluster;
        _certificate = certificate;
        _service = service;
        _environment = environment;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process => _service.Process;

    /// <summary>The first service process and every replica started since, in that order.</summary>
    public IReadOnlyList<Process> Processes => [_service.Process, .. _replicas.Select(r => r.Process)];

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
        var service = new BenchService(cluster, certificate, process, port, environment);
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

    /// <summary>
    /// One more service process on the same database, key ring and settings (its own port and Hangfire server), as a
    /// second replica behind a load balancer would be; returns when it is ready. Stopped with this service.
    /// </summary>
    /// <remarks><paramref name="settings"/> replace the first service's for this replica only (e.g. caching on one, off on the other).</remarks>
    public async Task<Process> StartReplicaAsync(string apiDll, Action<string> output, Action<string> error, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort.OnLoopback();
        var environment = new Dictionary<string, string?>(_environment);
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var replica = ServiceProcess.Start(apiDll, ["--urls", $"http://127.0.0.1:{port}"], environment, Path.GetDirectoryName(apiDll)!, output, error);
        _replicas.Add(replica);
        var address = new Uri($"http://127.0.0.1:{port}");
        ReplicaAddresses.Add(address);
        await replica.WaitUntilReadyAsync(address, TimeSpan.FromMinutes(2));
        return replica.Process;
    }

    /// <summary>Where each replica listens, in the order they were started.</summary>
    public List<Uri> ReplicaAddresses { get; } = [];

    /// <summary>A client of the service (or of the replica at <paramref name="baseAddress"/>) signed in with the bench's Admin key.</summary>
    public HttpClient CreateAdminClient(HttpMessageHandler? handler = null, Uri? baseAddress = null)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = baseAddress ?? BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _service.DisposeAsync();
        File.Delete(_certificate);
        await _cluster.DisposeAsync();
    }
}
