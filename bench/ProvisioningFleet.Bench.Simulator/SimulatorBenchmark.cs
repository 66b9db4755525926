using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using ProvisioningFleet.LocalServices;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Bench.Simulator;

/// <summary>
/// Load generator for the simulator: many keep-alive connections each sending the same prebuilt
/// Basic-authenticated Invoke (StdRegProv.GetStringValue of ProvisioningMode, the probe a sweep sends
/// to every healthy client) to devices picked round-robin. Either against a simulator it starts in
/// this process (<c>--devices N</c>) or against a running one (<c>--url</c>).
/// </summary>
internal static class SimulatorBenchmark
{
    private const string User = "bench";
    private const string Password = "bench-pw";

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = Settings.Parse(args);
        Console.WriteLine($"Machine: {Environment.ProcessorCount} logical CPUs, {Environment.OSVersion}, .NET {Environment.Version}");

        SimulatedFleetHost? host = null;
        Uri baseAddress;
        IReadOnlyList<string> hosts;
        if (settings.Url is { } url)
        {
            baseAddress = url;
            hosts = [.. Enumerable.Range(1, settings.Devices).Select(i => $"pc-{i.ToString(CultureInfo.InvariantCulture).PadLeft(Math.Max(5, settings.Devices.ToString(CultureInfo.InvariantCulture).Length), '0')}.corp.example")];
        }
        else
        {
            var before = Snapshot();
            host = await SimulatedFleetHost.StartAsync(new SimulatorOptions { Users = [new SimulatedUser(User, Password)], RecordReads = false });
            var generation = Stopwatch.StartNew();
            host.Fleet.AddRange(FleetScenario.Generate(settings.Devices, overdue: 0.02, tsRunning: 0.01, unreachable: 0, accessDenied: 0, flaky: 0, seed: 1));
            generation.Stop();
            var after = Snapshot();
            Console.WriteLine($"In-process simulator with {host.Fleet.Count:N0} devices, generated in {generation.Elapsed.TotalSeconds:0.00} s.");
            Console.WriteLine($"Memory: managed heap {after.Heap / 1e6:0.0} MB (was {before.Heap / 1e6:0.0} MB), process RSS {after.Rss / 1e6:0.0} MB.");
            baseAddress = host.HttpBaseAddress;
            hosts = [.. host.Fleet.Devices.Select(d => d.HostName)];
        }

        try
        {
            if (settings.Seconds > 0)
            {
                await LoadAsync(baseAddress, hosts, settings);
                if (host is not null)
                {
                    var loaded = Snapshot();
                    Console.WriteLine($"Memory after load: managed heap {loaded.Heap / 1e6:0.0} MB, process RSS {loaded.Rss / 1e6:0.0} MB.");
                }
            }
        }
        finally
        {
            if (host is not null)
            {
                await host.DisposeAsync();
            }
        }
        return 0;
    }

    private static (long Heap, long Rss) Snapshot()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    private static async Task LoadAsync(Uri baseAddress, IReadOnlyList<string> hosts, Settings settings)
    {
        var envelope = Encoding.UTF8.GetBytes(ProbeEnvelope());
        var authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        var endpoints = hosts.Select(h => new Uri(baseAddress, "/wsman/" + h)).ToArray();
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = settings.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        })
        { Timeout = TimeSpan.FromSeconds(30) };

        long next = 0;
        var measuring = false;
        var latencies = new List<double>[settings.Connections];
        var errors = 0L;
        var completed = 0L;
        using var stop = new CancellationTokenSource();

        async Task WorkerAsync(int worker)
        {
            var mine = latencies[worker] = new List<double>(4096);
            while (!stop.IsCancellationRequested)
            {
                var endpoint = endpoints[Interlocked.Increment(ref next) % endpoints.Length];
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(envelope) };
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/soap+xml;charset=UTF-8");
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, stop.Token);
                    var ok = response.StatusCode == HttpStatusCode.OK;
                    if (Volatile.Read(ref measuring))
                    {
                        if (ok)
                        {
                            Interlocked.Increment(ref completed);
                            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }

        var workers = Enumerable.Range(0, settings.Connections).Select(WorkerAsync).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(settings.WarmupSeconds));
        var serverCpuBefore = ServerCpu(settings.ServerPid);
        Volatile.Write(ref measuring, true);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(settings.Seconds));
        Volatile.Write(ref measuring, false);
        clock.Stop();
        var serverCpu = ServerCpu(settings.ServerPid) - serverCpuBefore;
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
        Console.WriteLine($"Load: {settings.Connections} connections, {settings.Seconds} s measured after {settings.WarmupSeconds} s warm-up, {endpoints.Length:N0} device endpoints.");
        Console.WriteLine($"Invoke (StdRegProv.GetStringValue, Basic): {completed / clock.Elapsed.TotalSeconds:N0} requests/s, " +
            $"p50 {Percentile(0.50):0.00} ms, p99 {Percentile(0.99):0.00} ms, errors {errors}.");
        if (settings.ServerPid is not null && completed > 0)
        {
            var perRequest = serverCpu / completed;
            Console.WriteLine($"Server CPU: {perRequest.TotalMicroseconds:0} µs per request, i.e. {1 / perRequest.TotalSeconds:N0} requests/s per fully available core.");
        }
    }

    /// <summary>CPU time (user + system) the simulator process has used, from /proc (Linux).</summary>
    private static TimeSpan ServerCpu(int? pid) => pid is { } id ? ProcessResources.ReadCpuTime(id) : TimeSpan.Zero;

    private static string ProbeEnvelope()
    {
        const string uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv";
        return $"""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:To>http://target:5985/wsman</a:To><w:ResourceURI s:mustUnderstand="true">{uri}</w:ResourceURI><a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo><a:Action s:mustUnderstand="true">{uri}/GetStringValue</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize><a:MessageID>uuid:{Guid.NewGuid()}</a:MessageID><w:OperationTimeout>PT20S</w:OperationTimeout></s:Header><s:Body><p:GetStringValue_INPUT xmlns:p="{uri}"><p:hDefKey>2147483650</p:hDefKey><p:sSubKeyName>SOFTWARE\Microsoft\CCM\CcmExec</p:sSubKeyName><p:sValueName>ProvisioningMode</p:sValueName></p:GetStringValue_INPUT></s:Body></s:Envelope>
            """;
    }

    private sealed record Settings(int Devices, int Connections, int Seconds, int WarmupSeconds, Uri? Url, int? ServerPid)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(Devices: 1000, Connections: 64, Seconds: 10, WarmupSeconds: 2, Url: null, ServerPid: null);
            for (var i = 0; i < args.Length; i++)
            {
                int Int() => int.Parse(args[++i], CultureInfo.InvariantCulture);
                settings = args[i] switch
                {
                    "--devices" => settings with { Devices = Int() },
                    "--connections" => settings with { Connections = Int() },
                    "--seconds" => settings with { Seconds = Int() },
                    "--warmup" => settings with { WarmupSeconds = Int() },
                    "--url" => settings with { Url = new Uri(args[++i]) },
                    "--server-pid" => settings with { ServerPid = Int() },
                    var other => throw new ArgumentException($"Unknown option {other}. Options: --devices N --connections N --seconds N --warmup N --url http://host:port (user bench:bench-pw) --server-pid PID (Linux: CPU per request of that process)"),
                };
            }
            return settings;
        }
    }
}
