using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Devices;

/// <summary>#15: the substring search's index keeps signatures long enough to tell host names apart.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DeviceSearchIndexTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task The_host_name_trigram_index_has_64_byte_signatures()
    {
        await using var db = Api.CreateDbContext();
        var definition = await db.Database
            .SqlQueryRaw<string>("SELECT indexdef AS \"Value\" FROM pg_indexes WHERE indexname = 'ix_devices_host_name_key_trgm'")
            .SingleAsync();
        Assert.Contains("gist (host_name_key gist_trgm_ops (siglen='64'))", definition, StringComparison.Ordinal);
    }
}
