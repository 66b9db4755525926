namespace ProvisioningFleet.Bench.Hosting;

/// <summary>Latency percentiles as the service benches report them.</summary>
public static class Percentiles
{
    /// <summary>The nearest-rank <paramref name="p"/> (0-1) of <paramref name="sorted"/>, which must not be empty.</summary>
    public static double Of(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
