using System.Diagnostics;
using System.Runtime.InteropServices;
using ProvisioningFleet.Simulator.AdminService;
using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;
using ProvisioningFleet.Simulator.Scenarios;

namespace ProvisioningFleet.Simulator;

public static class SimulatorProgram
{
    public static async Task<int> Main(string[] args)
    {
        SimulatorCommandLine line;
        try
        {
            line = SimulatorCommandLine.Parse(args);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        if (line.Help)
        {
            Console.WriteLine(SimulatorCommandLine.Usage);
            return 0;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        IReadOnlyList<SimulatedDevice> devices;
        var generation = Stopwatch.StartNew();
        try
        {
            devices = line.ScenarioPath is null
                ? FleetScenario.Generate(line.Mix, line.Options.TimeProvider)
                : await ScenarioFile.LoadAsync(line.ScenarioPath, line.Options.TimeProvider, stop.Token);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or IOException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync($"Scenario: {ex.Message}");
            return 2;
        }

        await using var host = await SimulatedFleetHost.StartAsync(line.Options, stop.Token);
        foreach (var device in devices)
        {
            device.Latency = TimeSpan.FromMilliseconds(line.LatencyMs);
            host.Fleet.Add(device);
        }
        SiteScenario.Populate(host.Site, devices, seed: line.Mix.Seed);
        generation.Stop();

        Func<SimulatedDevice, Uri> endpoint = line.ExportBaseUrl is { } baseUrl
            ? d => new Uri(baseUrl, "/wsman/" + Uri.EscapeDataString(d.HostName))
            : d => host.EndpointFor(d.HostName);
        var transport = line.ExportBaseUrl?.Scheme == Uri.UriSchemeHttps ? "Https" : "Http";
        var settings = new DeviceExportSettings(endpoint, transport, line.ExportAuthentication, line.Credential);
        if (line.ExportCsv is { } csv)
        {
            await using var writer = new StreamWriter(csv);
            await DeviceListExport.WriteCsvAsync(writer, host.Fleet.Devices, settings, stop.Token);
        }
        if (line.ExportJson is { } json)
        {
            await using var stream = File.Create(json);
            await DeviceListExport.WriteJsonAsync(stream, host.Fleet.Devices, settings, stop.Token);
        }

        var fleet = host.Fleet.Devices;
        Console.WriteLine($"Simulating {fleet.Count} devices (ready in {generation.Elapsed.TotalSeconds:0.0} s): " +
            $"{fleet.Count(d => d.InProvisioningMode && !d.TaskSequenceRunning)} in provisioning mode, " +
            $"{fleet.Count(d => d.TaskSequenceRunning)} running a task sequence, " +
            $"{fleet.Count(d => d.Behavior is DeviceBehavior.RefuseConnections or DeviceBehavior.Silent)} unreachable, " +
            $"{fleet.Count(d => !d.ClientInstalled)} without a client.");
        Console.WriteLine($"WinRM:      {host.HttpBaseAddress}wsman/{{host}}" + (host.HttpsBaseAddress is { } https ? $"  and  {https}wsman/{{host}}" : string.Empty));
        if (host.HttpsBaseAddress is not null)
        {
            Console.WriteLine($"AdminService: {host.AdminServiceUrl}/wmi/SMS_FullCollectionMembership?$filter=CollectionID eq '{SiteScenario.Workstations}' (NTLM)");
        }
        Console.WriteLine($"Inspection: {host.InspectionBaseAddress}devices  ·  {host.InspectionBaseAddress}invocations?host=");
        Console.WriteLine($"Users:      {string.Join(", ", line.Options.Users.Select(u => u.Domain is null ? u.UserName : $"{u.Domain}\\{u.UserName}"))}");
        if (line.ExportCsv is not null || line.ExportJson is not null)
        {
            Console.WriteLine($"Exported:   {string.Join(", ", new[] { line.ExportCsv, line.ExportJson }.Where(p => p is not null))}");
        }
        Console.WriteLine("Ctrl+C stops.");

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        return 0;
    }
}
