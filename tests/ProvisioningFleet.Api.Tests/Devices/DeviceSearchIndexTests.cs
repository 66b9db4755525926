using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using ProvisioningFleet.Testing;

namespace ProvisioningFleet.Api.Tests.Devices;

/// <summary>
/// #15: the substring search's index keeps signatures long enough to tell host names apart, and serves the search
/// only: lookups by key (imports, inventory syncs) go to the unique index, 20 times cheaper per lookup.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DeviceSearchIndexTests(PostgresFixture postgres) : FleetApiTest(postgres)
{
    [Fact]
    public async Task The_host_name_trigram_index_has_64_byte_signatures_under_the_search_collation()
    {
        await using var db = Api.CreateDbContext();
        var definition = await db.Database
            .SqlQueryRaw<string>("SELECT indexdef AS \"Value\" FROM pg_indexes WHERE indexname = 'ix_devices_host_name_key_trgm'")
            .SingleAsync();
        Assert.Contains("gist (host_name_key COLLATE \"C\" gist_trgm_ops (siglen='64'))", definition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lookup_by_key_cannot_take_the_trigram_index_and_the_search_can()
    {
        await using var db = Api.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO devices (host_name, host_name_key, endpoint, transport, authentication, tags, tag_keys, remediation_excluded, state, created_at, updated_at)
            SELECT 'pc-' || i || '.index.test', 'pc-' || i || '.index.test', 'http://pc/wsman', 'Http', 'Basic', ARRAY[]::text[], ARRAY[]::text[], false, 'Unknown', now(), now()
            FROM generate_series(1, 2000) i;
            ANALYZE devices;
            SET LOCAL enable_seqscan = off;
            """);

        // With every other index on host names gone, the trigram index is the only one left that could answer "=".
        await db.Database.ExecuteSqlRawAsync("""
            DROP INDEX ix_devices_host_name_key;
            DROP INDEX ix_devices_state_host_name_key;
            DROP INDEX ix_devices_disabled_host_name_key;
            """);
        var lookup = await PlanAsync(db, "SELECT id FROM devices WHERE host_name_key = 'pc-1234.index.test'");
        var search = await PlanAsync(db, "SELECT id FROM devices WHERE host_name_key COLLATE \"C\" LIKE '%c-123%'");
        await transaction.RollbackAsync();

        Assert.DoesNotContain("ix_devices_host_name_key_trgm", lookup, StringComparison.Ordinal);
        Assert.Contains("ix_devices_host_name_key_trgm", search, StringComparison.Ordinal);
    }

    private static async Task<string> PlanAsync(DbContext db, string query)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction!.GetDbTransaction();
        command.CommandText = "EXPLAIN (COSTS OFF) " + query;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
