using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ProvisioningFleet.Api.Demo;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Demo;

/// <summary>Demo mode never lands in a real database unasked and never overrides an operator's "no plain HTTP".</summary>
[Collection(PostgresCollection.Name)]
public sealed class DemoSafetyTests(PostgresFixture postgres) : IDisposable
{
    private readonly string _dataFolder = Directory.CreateTempSubdirectory("fleet-demo-safety-").FullName;

    [Fact]
    public async Task Demo_mode_refuses_a_configured_database_and_imports_nothing()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var api = new FleetApiFactory(connectionString);
        api.Settings[DemoMode.Setting] = "true";
        api.Settings["Fleet:Demo:DataPath"] = _dataFolder;
        api.Settings[DemoFleetExtensions.SizeSetting] = "5";

        var failure = Assert.ThrowsAny<Exception>(() => api.CreateClient());
        var message = failure.ToString();
        Assert.Contains("Demo mode refuses the configured database (ConnectionStrings__Fleet is set)", message);
        Assert.Contains("Fleet__Demo__UseConfiguredDatabase=true", message);

        // Nothing reached the database: no simulated device, no demo credential.
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var tables = new Npgsql.NpgsqlCommand("select (select count(*) from devices) + (select count(*) from credentials)", connection);
        Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Demo_mode_keeps_allow_unencrypted_false_when_the_operator_set_it()
    {
        await using var api = new FleetApiFactory(await postgres.CreateDatabaseAsync());
        api.Settings[DemoMode.Setting] = "true";
        api.Settings[DemoMode.UseConfiguredDatabaseSetting] = "true";
        api.Settings["Fleet:Demo:DataPath"] = _dataFolder;
        api.Settings[DemoFleetExtensions.SizeSetting] = "5";
        api.Settings["Fleet:WinRm:AllowUnencrypted"] = "false";
        using var client = api.CreateClient();

        Assert.False(api.Services.GetRequiredService<IConfiguration>().GetValue<bool>("Fleet:WinRm:AllowUnencrypted"));
    }

    public void Dispose() => Directory.Delete(_dataFolder, recursive: true);
}
