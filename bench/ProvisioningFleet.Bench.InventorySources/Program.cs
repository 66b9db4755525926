using ProvisioningFleet.Bench.InventorySources;

// dotnet run -c Release --project bench/ProvisioningFleet.Bench.InventorySources [-- --members 100000 --page-size 1000 --batch 50 --api path/to/ProvisioningFleet.Api.dll]
return await new InventorySyncBenchmark(InventorySyncBenchmark.Options.Parse(args)).RunAsync();
