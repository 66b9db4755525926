using ProvisioningFleet.Bench.Simulator;

return await SimulatorBenchmark.RunAsync(args);
