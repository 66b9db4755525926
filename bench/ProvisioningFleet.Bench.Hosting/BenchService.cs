using System.Diagnostics;
using System.Globalization;
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

    private BenchService(LocalPostgresCluster cluster, string certificate, Process process, int port)
    {
        _cluster = cluster;
        _certificate = certificate;
        Process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public Process Process { get; }

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
        var port = BenchMachine.FreeLoopbackPort();
        var start = new ProcessStartInfo("dotnet", [apiDll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = Path.GetDirectoryName(apiDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Fleet"] = cluster.ConnectionString(Database);
        start.Environment["FLEET_ADMIN_API_KEY"] = AdminKey;
        start.Environment["Fleet__DataProtection__CertificatePath"] = certificate;
        start.Environment["Fleet__DataProtection__CertificatePassword"] = "bench";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The service did not start.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { error(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new BenchService(cluster, certificate, process, port);
        try
        {
            await service.WaitUntilReadyAsync();
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
        if (!Process.HasExited)
        {
            using var terminate = Process.Start("kill", ["-TERM", Process.Id.ToString(CultureInfo.InvariantCulture)]);
            await terminate.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await Process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                Process.Kill(entireProcessTree: true);
            }
        }

        Process.Dispose();
        File.Delete(_certificate);
        await _cluster.DisposeAsync();
    }

    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {Process.ExitCode}.");
            }

            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The service did not become ready within 2 minutes.");
    }
}
