using System.Globalization;

namespace ProvisioningFleet.Bench.Sweep;

/// <summary>
/// The fixed scenario by default (100,000 devices, 20 ms per request, 2% overdue, 1% TS, 1% refusing; two sweeps:
/// the first verdicts and fixes, then the steady state); knobs for exploring.
/// </summary>
public sealed record SweepBenchOptions
{
    public int Devices { get; init; } = 100_000;
    public int LatencyMs { get; init; } = 20;
    public double Overdue { get; init; } = 0.02;
    public double TaskSequence { get; init; } = 0.01;
    public double Refusing { get; init; } = 0.01;
    public int ShardSize { get; init; } = 500;
    public int ProbeConcurrency { get; init; } = 64;
    public int Workers { get; init; } = 4;
    public int Seed { get; init; } = 1;
    public int Sweeps { get; init; } = 2;
    public string? ApiDll { get; init; }

    public const string Usage =
        "usage: ProvisioningFleet.Bench.Sweep [--devices N] [--latency-ms N] [--shard-size N] [--concurrency N] [--workers N] [--seed N] [--sweeps N] [--api path/to/ProvisioningFleet.Api.dll]";

    public static SweepBenchOptions? Parse(string[] args)
    {
        var options = new SweepBenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
            {
                return null;
            }

            var value = args[++i];
            int Int() => int.Parse(value, CultureInfo.InvariantCulture);
            options = args[i - 1] switch
            {
                "--devices" => options with { Devices = Int() },
                "--latency-ms" => options with { LatencyMs = Int() },
                "--shard-size" => options with { ShardSize = Int() },
                "--concurrency" => options with { ProbeConcurrency = Int() },
                "--workers" => options with { Workers = Int() },
                "--seed" => options with { Seed = Int() },
                "--sweeps" => options with { Sweeps = Math.Max(1, Int()) },
                "--api" => options with { ApiDll = value },
                _ => null!,
            };
            if (options is null)
            {
                return null;
            }
        }

        return options;
    }
}
