using ProvisioningFleet.Bench.Inventory;

// dotnet run -c Release --project bench/ProvisioningFleet.Bench.Inventory [-- --devices 100000 --requests 2000]
var options = InventoryBenchOptions.Parse(args);
return await new InventoryBenchmark(options).RunAsync();
