using System.Globalization;

namespace ProvisioningFleet.Bench.Sweep;

/// <summary>
/// The fixed scenario by default (100,000 devices, 20 ms per request, 2% overdue, 1% TS, 1% refusing; two sweeps:
/// the first verdicts and fixes, then the steady state; the admin's script on a sample of the same fleet before
/// and after); <c>--short</c> is the same on 10,000 devices with a 1,000-device sample, targets scaled; knobs for exploring.
/// </summary>
public sealed record SweepBenchOptions
{
    /// <summary>The fleet size the time targets are stated for.</summary>
    public const int TargetFleet = 100_000;

    public int Devices { get; init; } = TargetFleet;
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

    /// <summary>Devices the admin's script sweeps (every Nth of the fleet, so the mix is the fleet's); 0 skips the peer.</summary>
    public int ScriptSample { get; init; } = 5_000;

    public int ScriptThreads { get; init; } = 32;

    /// <summary>Service processes sharing the database and the sweep (each its own Hangfire server).</summary>
    public int Services { get; init; } = 1;

    /// <summary>Concurrent API readers during the last sweep (#16 item 20); 0, the default, runs none (they take CPU from the sweep).</summary>
    public int Readers { get; init; }

    /// <summary>Environment variables for the service processes only (runtime settings such as <c>DOTNET_TieredPGO=0</c>), not the simulator.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();

    public const string Usage =
        "usage: ProvisioningFleet.Bench.Sweep [--short] [--devices N] [--latency-ms N] [--shard-size N] [--concurrency N] [--workers N] [--seed N] [--sweeps N]\n" +
        "                                     [--script-sample N] [--script-threads N] [--services N] [--readers N] [--service-env NAME=VALUE]... [--api path/to/ProvisioningFleet.Api.dll]";

    public static SweepBenchOptions? Parse(string[] args)
    {
        var options = new SweepBenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--short")
            {
                options = options with { Devices = 10_000, ScriptSample = 1_000 };
                continue;
            }

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
                "--script-sample" => options with { ScriptSample = Math.Max(0, Int()) },
                "--script-threads" => options with { ScriptThreads = Math.Max(1, Int()) },
                "--services" => options with { Services = Math.Max(1, Int()) },
                "--readers" => options with { Readers = Math.Max(0, Int()) },
                "--api" => options with { ApiDll = value },
                "--service-env" when value.Split('=', 2) is [{ Length: > 0 } name, var setting] =>
                    options with { ServiceEnvironment = new Dictionary<string, string>(options.ServiceEnvironment) { [name] = setting } },
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
