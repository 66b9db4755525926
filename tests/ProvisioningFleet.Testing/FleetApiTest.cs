using Xunit;

namespace ProvisioningFleet.Testing;

/// <summary>
/// Base of API tests: <see cref="Api"/> is this class's host on its own database (shared by the
/// class's tests). Override <see cref="ConfigureSettings"/> to give the host more configuration.
/// </summary>
public abstract class FleetApiTest(PostgresFixture postgres) : IAsyncLifetime
{
    protected PostgresFixture Postgres { get; } = postgres;

    protected FleetApiFactory Api { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Api = await Postgres.FactoryForAsync(GetType(), ConfigureSettings);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected virtual void ConfigureSettings(IDictionary<string, string?> settings)
    {
    }
}
