using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Engine;

/// <summary>
/// Base of the engine's end-to-end tests: the class's host set up for the simulator (<see cref="EngineFleet.Configure"/>)
/// and, for each test, a simulated fleet registered under names of its own.
/// </summary>
public abstract class EngineFleetTest(PostgresFixture postgres) : FleetApiTest(postgres)
{
    private EngineFleet? _fleet;

    private protected EngineFleet Fleet => _fleet ?? throw new InvalidOperationException("The fleet starts in InitializeAsync.");

    protected override void ConfigureSettings(IDictionary<string, string?> settings) => EngineFleet.Configure(settings);

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _fleet = await EngineFleet.StartAsync(Api);
    }

    public override async Task DisposeAsync()
    {
        if (_fleet is not null)
        {
            await _fleet.DisposeAsync();
        }
    }
}
