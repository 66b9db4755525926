using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using ProvisioningFleet.Core.Cim;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Data.InventorySources;

/// <summary>A member as the device it should be: what the source's settings make of it.</summary>
public sealed record InventoryDevice(
    long ResourceId,
    string Name,
    string HostName,
    string Endpoint,
    CimTransport Transport,
    CimAuthentication Authentication,
    long? CredentialId,
    string[] Tags,
    string? ExpectedClientId);

/// <summary>What one sync did (or, in a dry run, would do) to the devices.</summary>
public sealed record InventorySyncChanges(int Created, int Updated, int Disabled, int Deleted, IReadOnlyList<InventorySkip> Conflicts);

/// <summary>
/// Brings a source's devices in line with its members in a handful of set-based statements, however
/// many members there are: the members are copied into a temporary table (binary COPY) and matched
/// to the source's devices by resource, then by host name (a re-imaged machine's new record); the
/// rest is one UPDATE, one INSERT and one removal. Devices created by hand or by another source are
/// never written: a member naming one is a conflict. Runs inside the caller's transaction, so a dry
/// run is the same work rolled back.
/// </summary>
public static class InventorySyncWriter
{
    public static async Task<InventorySyncChanges> ApplyAsync(
        FleetDbContext db, long sourceId, InventoryRemovalAction onRemoved, IReadOnlyCollection<InventoryDevice> members,
        string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var transaction = (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A sync is written inside a transaction.");

        // The caller's timeout (EF's), not the connection's 30 s default: 100,000 rows take longer on a busy server.
        var timeout = db.Database.GetCommandTimeout() ?? 30;

        async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = timeout };
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            return await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // Two syncs of one source never interleave their writes, whatever instance runs them.
        await ExecuteAsync("SELECT pg_advisory_xact_lock(@lock_space, @source)", ("lock_space", LockSpace), ("source", (int)sourceId));

        await ExecuteAsync("""
            CREATE TEMP TABLE inventory_members (
                resource_id bigint NOT NULL, name text NOT NULL, host_name text NOT NULL, host_name_key text NOT NULL,
                endpoint text NOT NULL, transport text NOT NULL, authentication text NOT NULL, credential_id bigint,
                tags text[] NOT NULL, tag_keys text[] NOT NULL, expected_client_id text,
                device_id bigint, conflict text, conflict_detail text) ON COMMIT DROP
            """);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY inventory_members (resource_id, name, host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys, expected_client_id) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            copy.Timeout = TimeSpan.FromSeconds(timeout);
            foreach (var member in members)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(member.ResourceId, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(member.Name, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(member.HostName, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(Device.KeyOf(member.HostName), NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(member.Endpoint, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(member.Transport.ToString(), NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(member.Authentication.ToString(), NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(copy, member.CredentialId, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(member.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(member.Tags.Select(Device.KeyOf).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(copy, member.ExpectedClientId, NpgsqlDbType.Text, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        // Temporary tables are never analysed by autovacuum; without statistics the joins below are planned for a few rows.
        await ExecuteAsync("""
            CREATE UNIQUE INDEX ON inventory_members (resource_id);
            CREATE UNIQUE INDEX ON inventory_members (host_name_key);
            ANALYZE inventory_members;
            """);

        // A host of a hand-made device or of another source is not this source's to take.
        await ExecuteAsync("""
            UPDATE inventory_members m
            SET conflict = CASE WHEN d.inventory_source_id IS NULL THEN @hand_made ELSE @other_source END,
                conflict_detail = CASE WHEN d.inventory_source_id IS NULL
                    THEN 'Device ' || d.id || ' (' || d.host_name || ') was created by hand; a sync never changes it.'
                    ELSE 'Device ' || d.id || ' (' || d.host_name || ') belongs to inventory source ''' || coalesce(s.name, '?') || '''; two sources cannot share a host.' END
            FROM devices d LEFT JOIN inventory_sources s ON s.id = d.inventory_source_id
            WHERE d.host_name_key = m.host_name_key AND d.inventory_source_id IS DISTINCT FROM @source
            """, ("hand_made", InventorySkipReasons.HandMadeDevice), ("other_source", InventorySkipReasons.OtherSource), ("source", sourceId));

        // The same resource is the same device, renamed or not; failing that, the same host name under a new
        // resource is the machine re-imaged (its old record obsolete).
        await ExecuteAsync("""
            UPDATE inventory_members m SET device_id = d.id
            FROM devices d
            WHERE d.inventory_source_id = @source AND d.source_resource_id = m.resource_id AND m.conflict IS NULL
            """, ("source", sourceId));
        await ExecuteAsync("""
            UPDATE inventory_members m SET device_id = d.id
            FROM devices d
            WHERE m.device_id IS NULL AND m.conflict IS NULL AND d.inventory_source_id = @source AND d.host_name_key = m.host_name_key
              AND NOT EXISTS (SELECT 1 FROM inventory_members o WHERE o.device_id = d.id)
            """, ("source", sourceId));

        // The source's devices no member claims any more. A conflicting member keeps its device as it is,
        // and a device in the middle of a fix is left for the next sync.
        await ExecuteAsync("""
            CREATE TEMP TABLE inventory_removed ON COMMIT DROP AS
            SELECT d.id FROM devices d
            WHERE d.inventory_source_id = @source
              AND NOT EXISTS (SELECT 1 FROM inventory_members m WHERE m.device_id = d.id)
              AND NOT EXISTS (SELECT 1 FROM inventory_members m WHERE m.conflict IS NOT NULL AND m.resource_id = d.source_resource_id)
            """, ("source", sourceId));

        int disabled = 0, deleted = 0;
        if (onRemoved == InventoryRemovalAction.Delete)
        {
            deleted = await ExecuteAsync("""
                DELETE FROM devices d USING inventory_removed r
                WHERE d.id = r.id
                  AND NOT EXISTS (SELECT 1 FROM remediations x WHERE x.device_id = d.id AND x.outcome = 'InProgress')
                """);
        }
        else
        {
            disabled = await ExecuteAsync("""
                UPDATE devices d SET enabled = false, disabled_by_source = true, updated_at = @now
                FROM inventory_removed r
                WHERE d.id = r.id AND d.enabled
                """, ("now", now));
        }

        // A renamed member whose new name another of this source's devices still holds (disabled, say) waits.
        await ExecuteAsync("""
            UPDATE inventory_members m
            SET conflict = 'Duplicate',
                conflict_detail = 'Device ' || d.id || ' of this source still holds the host name ' || d.host_name || '.'
            FROM devices d
            WHERE m.conflict IS NULL AND d.host_name_key = m.host_name_key AND d.id IS DISTINCT FROM m.device_id
            """);

        // A sync is where most endpoints change (a new template, another device credential): each change is audited.
        await ExecuteAsync(DeviceReach.AuditChangesSql("inventory_members", "s.device_id = d.id AND s.conflict IS NULL", "d.service_principal_name"),
            ("now", now), ("actor", actor));

        var updated = await ExecuteAsync("""
            UPDATE devices d SET
                host_name = m.host_name, host_name_key = m.host_name_key, endpoint = m.endpoint, transport = m.transport,
                authentication = m.authentication, credential_id = m.credential_id, tags = m.tags, tag_keys = m.tag_keys,
                source_resource_id = m.resource_id, expected_client_id = m.expected_client_id,
                enabled = d.enabled OR d.disabled_by_source, disabled_by_source = false, updated_at = @now
            FROM inventory_members m
            WHERE m.device_id = d.id AND m.conflict IS NULL
              -- An unchanged member leaves its row alone: a sync of a steady site writes nothing.
              AND ((d.host_name, d.endpoint, d.transport, d.authentication, d.credential_id, d.tags, d.source_resource_id, d.expected_client_id)
                   IS DISTINCT FROM (m.host_name, m.endpoint, m.transport, m.authentication, m.credential_id, m.tags, m.resource_id, m.expected_client_id)
                   OR d.disabled_by_source)
            """, ("now", now));

        // A device created by hand meanwhile wins the host name (ON CONFLICT): the member is reported below.
        int created;
        await using (var insert = new NpgsqlCommand("""
            WITH inserted AS (
                INSERT INTO devices (host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys,
                                     enabled, remediation_excluded, state, inventory_source_id, source_resource_id, expected_client_id,
                                     disabled_by_source, created_at, updated_at)
                SELECT host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys,
                       true, false, 'Unknown', @source, resource_id, expected_client_id, false, @now, @now
                FROM inventory_members
                WHERE device_id IS NULL AND conflict IS NULL
                ON CONFLICT (host_name_key) DO NOTHING
                RETURNING id, source_resource_id),
            marked AS (
                UPDATE inventory_members m SET device_id = i.id FROM inserted i WHERE i.source_resource_id = m.resource_id RETURNING 1)
            SELECT count(*) FROM marked
            """, connection, transaction) { CommandTimeout = timeout })
        {
            insert.Parameters.AddWithValue("source", sourceId);
            insert.Parameters.AddWithValue("now", now);
            created = (int)(long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        var conflicts = new List<InventorySkip>();
        await using (var read = new NpgsqlCommand("""
            SELECT name, resource_id, coalesce(conflict, @hand_made),
                   coalesce(conflict_detail, 'A device named ' || host_name || ' was created while the sync ran.')
            FROM inventory_members WHERE conflict IS NOT NULL OR device_id IS NULL
            ORDER BY name, resource_id
            """, connection, transaction) { CommandTimeout = timeout })
        {
            read.Parameters.AddWithValue("hand_made", InventorySkipReasons.HandMadeDevice);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                conflicts.Add(new InventorySkip(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        return new InventorySyncChanges(created, updated, disabled, deleted, conflicts);
    }

    /// <summary>The first key of the advisory lock a sync holds on its source (the second is the source's id).</summary>
    private const int LockSpace = 0x1A5E;

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);
}
