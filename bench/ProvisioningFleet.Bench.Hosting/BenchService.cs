using System.Diagnostics;
using Npgsql;
using ProvisioningFleet.Api.Credentials;
using ProvisioningFleet.LocalServices;

namespace ProvisioningFleet.Bench.Hosting;

/// <summary>
/// The built service as its own process, on a private PostgreSQL cluster with an empty database, so that
/// what a bench measures is the real thing over real HTTP: a production start-up (migrations included),
/// a bootstrap Admin key, a key-ring certificate of its own. Stopped with SIGTERM, as an orchestrator would.
/// The reliability tests use it too: they kill the process (<see cref="KillAsync"/>), start it again on the same
/// database (<see cref="StartAgainAsync"/>) and stop or restart the database under it (<see cref="Cluster"/>).
/// </summary>
public sealed class BenchService : IAsyncDisposable
{
    public const string AdminKey = "pfk_bench-admin-key-0123456789abcdef";
    private const string Database = "fleet_bench";

    private readonly LocalPostgresCluster _cluster;
    private readonly string _certificate;
    private readonly string _apiDll;
    private readonly Dictionary<string, string?> _environment;
    private readonly Action<string> _output;
    private readonly Action<string> _error;
    private ServiceProcess _service;

    private BenchService(
        LocalPostgresCluster cluster, string certificate, string apiDll, Dictionary<string, string?> environment, int port, Action<string> output, Action<string> error)
    {
        _cluster = cluster;
        _certificate = certificate;
        _apiDll = apiDll;
        _environment = environment;
        _output = output;
        _error = error;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _service = Launch();
    }

    public Process Process => _service.Process;

    /// <summary>Everything the current process has written so far.</summary>
    public string Output => _service.Output;

    public LocalPostgresCluster Cluster => _cluster;

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
        };
        foreach (var (name, value) in settings)
        {
            environment[name] = value;
        }

        var service = new BenchService(cluster, certificate, apiDll, environment, port, output, error);
        try
        {
            await service._service.WaitUntilReadyAsync(service.BaseAddress, TimeSpan.FromMinutes(2));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
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

    /// <summary>A client of the service signed in with the bench's Admin key.</summary>
    public HttpClient CreateAdminClient(HttpMessageHandler? handler = null)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return http;
    }

    private ServiceProcess Launch() =>
        ServiceProcess.Start(_apiDll, ["--urls", $"http://127.0.0.1:{BaseAddress.Port}"], _environment, Path.GetDirectoryName(_apiDll)!, _output, _error);

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync();
        File.Delete(_certificate);
        await _cluster.DisposeAsync();
    }
}
