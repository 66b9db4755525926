using ProvisioningFleet.Simulator.Hosting;

namespace ProvisioningFleet.Simulator.Tests;

/// <summary>One simulator per test class: in-process Kestrel on ephemeral loopback ports.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public SimulatedFleetHost Host { get; private set; } = null!;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        Host = await SimulatedFleetHost.StartAsync(new SimulatorOptions
        {
            HttpsPort = 0,
            Users = [new SimulatedUser("admin", "P@ssw0rd!", "CORP")],
        });
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }

    internal SimulatorClient Client(string hostName, string user = "admin", string password = "P@ssw0rd!") =>
        new(Http, Host.EndpointFor(hostName), user, password);
}
