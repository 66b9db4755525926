using ProvisioningFleet.Simulator.Fleet;
using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.WsMan.Tests.AgainstSimulator;

/// <summary>
/// Two real simulator hosts for the class: one as Windows ships WinRM (AllowUnencrypted=false, so
/// NTLM over HTTP must seal every message, Basic only over HTTPS) and one lab host that also takes
/// Basic over plain HTTP.
/// </summary>
public sealed class SimulatorFleet : IAsyncLifetime
{
    public const string Domain = "LAB";
    public const string User = "fleet-svc";
    public const string Password = "Pr0v!sioning-secret";

    public SimulatedFleetHost Strict { get; private set; } = null!;

    public SimulatedFleetHost Lab { get; private set; } = null!;

    public static WsManCredential Credential => new(User, Password, Domain);

    public async Task InitializeAsync()
    {
        Strict = await StartAsync(allowUnencrypted: false);
        Lab = await StartAsync(allowUnencrypted: true);
    }

    public async Task DisposeAsync()
    {
        await Strict.DisposeAsync();
        await Lab.DisposeAsync();
    }

    private static async Task<SimulatedFleetHost> StartAsync(bool allowUnencrypted)
    {
        var host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            AllowUnencrypted = allowUnencrypted,
            Users = [new SimulatedUser(User, Password, Domain)],
            EnableInspection = false,
        });
        host.Fleet.Add(new SimulatedDevice("pc-stuck")
        {
            ProvisioningMaxMinutes = 120,
            RunningProcesses = ["TSManager.exe"],
        }.EnterProvisioningMode(TimeSpan.FromHours(3)));
        host.Fleet.Add(new SimulatedDevice("pc-healthy"));
        host.Fleet.Add(new SimulatedDevice("pc-noclient") { ClientInstalled = false, ProvisioningMode = null });
        host.Fleet.Add(new SimulatedDevice("pc-denied") { Behavior = DeviceBehavior.AccessDenied });
        host.Fleet.Add(new SimulatedDevice("pc-silent") { Behavior = DeviceBehavior.Silent });
        host.Fleet.Add(new SimulatedDevice("pc-down") { Behavior = DeviceBehavior.RefuseConnections });
        host.Fleet.Add(new SimulatedDevice("pc-garbage") { Behavior = DeviceBehavior.Malformed });
        host.Fleet.Add(new SimulatedDevice("pc-stall") { Behavior = DeviceBehavior.Stall });
        return host;
    }
}
