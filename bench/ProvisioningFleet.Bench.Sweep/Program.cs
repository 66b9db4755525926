using ProvisioningFleet.Bench.Sweep;

var options = SweepBenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(SweepBenchOptions.Usage);
    return 2;
}

return await new SweepBenchmark(options).RunAsync();
