namespace ProvisioningFleet.Bench.Inventory;

/// <summary>
/// How big and how long: <c>--devices N</c> (default 100,000), <c>--requests N</c> per list query (default 2,000),
/// <c>--clients N</c> concurrent clients in the concurrent phase (default 32).
/// </summary>
public sealed record InventoryBenchOptions(int Devices, int Requests, int Clients)
{
    public static InventoryBenchOptions Parse(string[] args)
    {
        var devices = 100_000;
        var requests = 2_000;
        var clients = 32;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--devices":
                    devices = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--requests":
                    requests = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--clients":
                    clients = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}; the options are --devices N, --requests N and --clients N.");
            }
        }

        return new InventoryBenchOptions(devices, requests, clients);
    }
}
