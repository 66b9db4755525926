using System.Diagnostics;
using ProvisioningFleet.Bench.Hosting;

namespace ProvisioningFleet.Bench.Sweep;

/// <summary>
/// #16 item 20 while a sweep runs: <c>clients</c> readers, each on its own keep-alive connection, asking for the fleet
/// summary and two filtered device pages in turn, as dashboards and scripts do, until stopped.
/// </summary>
internal sealed class ConcurrentReaders
{
    private static readonly string[] Queries =
        ["/api/v1/fleet/summary", "/api/v1/devices?state=Healthy&page=3&pageSize=50", "/api/v1/devices?state=Unreachable&pageSize=50"];

    private readonly HttpClient _http;
    private readonly List<double>[] _latencies = Queries.Select(_ => new List<double>()).ToArray();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;

    private ConcurrentReaders(HttpClient http, int clients)
    {
        _http = http;
        _clients = Enumerable.Range(0, clients).Select(ReadAsync).ToArray();
    }

    public static ConcurrentReaders Start(HttpClient http, int clients) => new(http, clients);

    /// <summary>Stops the readers, prints each query's latencies, and returns the worst p99 in milliseconds.</summary>
    public async Task<double> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        _http.Dispose();
        Console.WriteLine($"  {_clients.Length} concurrent readers during the sweep (ms):");
        var worst = 0.0;
        for (var q = 0; q < Queries.Length; q++)
        {
            var sorted = _latencies[q].Order().ToArray();
            if (sorted.Length == 0)
            {
                continue;
            }

            double At(double p) => Percentiles.Of(sorted, p);
            worst = Math.Max(worst, At(0.99));
            Console.WriteLine($"    {Queries[q],-52} p50 {At(0.50),7:F2}  p95 {At(0.95),7:F2}  p99 {At(0.99),7:F2}  max {sorted[^1],7:F2}  {sorted.Length:N0} requests");
        }

        return worst;
    }

    private async Task ReadAsync(int client)
    {
        for (var i = client; !_stop.IsCancellationRequested; i++)
        {
            var query = i % Queries.Length;
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = await _http.GetAsync(Queries[query], _stop.Token);
                await response.Content.ReadAsByteArrayAsync(_stop.Token);
                response.EnsureSuccessStatusCode();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            lock (_latencies[query])
            {
                _latencies[query].Add(elapsed);
            }
        }
    }
}
