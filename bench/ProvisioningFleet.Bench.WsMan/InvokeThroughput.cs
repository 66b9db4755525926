using System.Diagnostics;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Testing.Kerberos;
using ProvisioningFleet.WsMan;
using ProvisioningFleet.WsMan.Cim;

namespace ProvisioningFleet.Bench.WsMan;

/// <summary>
/// Round trips per second of the probe's one call (StdRegProv.GetStringValue of ProvisioningMode)
/// against the simulator on loopback: in this process (client and server share the cores), or a
/// simulator already running elsewhere when <see cref="Endpoint"/> is given, which leaves this
/// process's CPU time to the client alone. Each worker owns one client, hence (for NTLM and Kerberos)
/// one authenticated, sealed connection. Kerberos runs against the tests' MIT KDC on loopback. With
/// <see cref="FreshConnections"/> each call has a client of its own instead, hence its own handler and connection,
/// as each device of a sweep does.
/// </summary>
internal sealed record InvokeThroughput(
    WsManAuthentication Authentication, int Concurrency, TimeSpan Duration, TimeSpan Warmup, Uri? Endpoint, WsManCredential? Credential, ServiceTelemetry? Telemetry, bool FreshConnections)
{
    private const string StdRegProv = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/StdRegProv";

    public async Task<int> RunAsync()
    {
        var kerberos = Authentication == WsManAuthentication.Kerberos && Endpoint is null;
        if (kerberos)
        {
            // A real KDC on loopback, as the tests run it; the simulator checks tickets against its keytab.
            await TestRealm.StartAsync();
        }

        var credential = Credential ?? (kerberos ? new WsManCredential(TestRealm.User("alice"), TestRealm.Password) : new WsManCredential("bench", "Bench-passw0rd", "LAB"));
        // A Kerberos principal alice@A.TEST is the simulator's user alice of realm A.TEST.
        var user = kerberos ? new SimulatedUser("alice", "", TestRealm.RealmA) : new SimulatedUser(credential.UserName, credential.Password, credential.Domain);
        await using var host = Endpoint is null ? await StartSimulatorAsync(user, allowUnencrypted: Authentication == WsManAuthentication.Basic) : null;
        var endpoint = Endpoint ?? host!.EndpointFor("pc-bench");

        WsManClient NewClient() => new(new WsManClientOptions
        {
            Endpoint = endpoint,
            Authentication = Authentication,
            Credential = credential,
            AllowUnencrypted = Authentication == WsManAuthentication.Basic,
            ServicePrincipalName = kerberos ? "HTTP/winrm.a.test" : null,
        });

        var newClient = FreshConnections ? NewClient : (Func<WsManClient>?)null;
        var clients = Enumerable.Range(0, Concurrency).Select(_ => NewClient()).ToArray();
        try
        {
            await Task.WhenAll(clients.Select(c => CallAsync(c)));
            using (var warmup = new CancellationTokenSource(Warmup))
            {
                await Task.WhenAll(clients.Select(c => LoopAsync(c, newClient, null, warmup.Token)));
            }

            var latencies = clients.Select(_ => new List<double>(100_000)).ToArray();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var telemetryBefore = Telemetry?.Counts ?? default;
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var gcsBefore = GC.CollectionCount(0);
            var watch = Stopwatch.StartNew();
            using (var measure = new CancellationTokenSource(Duration))
            {
                await Task.WhenAll(clients.Select((c, i) => LoopAsync(c, newClient, latencies[i], measure.Token)));
            }

            watch.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var gcs = GC.CollectionCount(0) - gcsBefore;
            var telemetry = Telemetry?.Counts ?? default;
            var all = latencies.SelectMany(l => l).Order().ToArray();
            Console.WriteLine($"auth={Authentication} encrypted={Authentication != WsManAuthentication.Basic} concurrency={Concurrency}{(FreshConnections ? " fresh-connections" : "")} duration={watch.Elapsed.TotalSeconds:0.0}s cores={Environment.ProcessorCount} {LoadAverage()}");
            Console.WriteLine($"invokes={all.Length} rate={all.Length / watch.Elapsed.TotalSeconds:0}/s p50={Percentile(all, 0.50):0.00}ms p99={Percentile(all, 0.99):0.00}ms "
                + $"process-cpu/invoke={cpu.TotalMicroseconds / Math.Max(1, all.Length):0}us ({(host is null ? "client only" : "client and simulator")})");
            // Client and simulator together: the simulator's share of each round trip is in this figure too.
            Console.WriteLine($"allocated/invoke={allocated / Math.Max(1, all.Length)}B gen0-collections={gcs} ({(host is null ? "client only" : "client and simulator")})");
            if (Telemetry is not null)
            {
                Console.WriteLine($"with the service's HTTP client instrumentation: System.Net.Http spans/invoke={(telemetry.Spans - telemetryBefore.Spans) / (double)Math.Max(1, all.Length):0.00} "
                    + $"System.Net.Http measurements/invoke={(telemetry.Measurements - telemetryBefore.Measurements) / (double)Math.Max(1, all.Length):0.00}");
            }
            return 0;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<SimulatedFleetHost> StartSimulatorAsync(SimulatedUser user, bool allowUnencrypted)
    {
        var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            // As Windows ships: NTLM must seal every message. Basic over HTTP needs the lab switch.
            AllowUnencrypted = allowUnencrypted,
            Users = [user],
            KerberosKeytab = File.Exists(TestRealm.Keytab) ? TestRealm.Keytab : null,
            EnableInspection = false,
            InvocationLogCapacity = 1,
        });
        host.Fleet.Add(new SimulatedDevice("pc-bench").EnterProvisioningMode());
        return host;
    }

    private static async Task LoopAsync(WsManClient client, Func<WsManClient>? newClient, List<double>? latencies, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            if (newClient is null)
            {
                await CallAsync(client);
            }
            else
            {
                await using var fresh = newClient();
                await CallAsync(fresh);
            }

            latencies?.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static async Task CallAsync(WsManClient client)
    {
        var result = await client.InvokeAsync(StdRegProv, "GetStringValue",
            [CimParameter.Of("hDefKey", 2147483650UL), CimParameter.Of("sSubKeyName", @"SOFTWARE\Microsoft\CCM\CcmExec"), CimParameter.Of("sValueName", "ProvisioningMode")],
            null, CancellationToken.None);
        if (result.ReturnValue.AsUInt32() is not (0 or 1))
        {
            throw new InvalidOperationException($"GetStringValue answered ReturnValue {result.ReturnValue}.");
        }
    }

    /// <summary>Other work on the machine skews the figures; the load average says how much there was.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? "loadavg=" + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : string.Empty;

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];
}
