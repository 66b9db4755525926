using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using ProvisioningFleet.Core.Cim;

namespace ProvisioningFleet.Data.Devices;

/// <summary>A device's fields after validation, with the defaults of api.md filled in: what a create, update or import row writes.</summary>
public sealed record ValidDevice(
    string HostName,
    string Endpoint,
    CimTransport Transport,
    CimAuthentication Authentication,
    long? CredentialId,
    string[] Tags,
    bool Enabled,
    bool RemediationExcluded,
    string? Spn = null);

/// <summary>
/// Many devices written at once: copied into a temporary table with binary COPY and upserted by host
/// name in one statement.
/// </summary>
public static class DeviceBulkImport
{
    /// <summary>
    /// Inside the caller's transaction; host names must be unique within <paramref name="devices"/>. Every existing device
    /// whose endpoint, transport, authentication, credential or SPN changes gets its own audit entry by <paramref name="actor"/>.
    /// Returns how many devices were created (the others matched an existing host name) and how many changed their reach.
    /// </summary>
    public static async Task<(int Created, int ReachChanged)> UpsertAsync(
        FleetDbContext db, IReadOnlyList<ValidDevice> devices, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await ExecuteAsync(connection, """
            CREATE TEMP TABLE device_import (
                host_name text NOT NULL, host_name_key text NOT NULL, endpoint text NOT NULL, transport text NOT NULL,
                authentication text NOT NULL, credential_id bigint, tags text[] NOT NULL, tag_keys text[] NOT NULL,
                enabled boolean NOT NULL, remediation_excluded boolean NOT NULL, service_principal_name text) ON COMMIT DROP
            """, cancellationToken);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY device_import (host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys, enabled, remediation_excluded, service_principal_name) FROM STDIN (FORMAT BINARY)",
            cancellationToken))
        {
            foreach (var device in devices)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(device.HostName, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(Device.KeyOf(device.HostName), NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(device.Endpoint, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(device.Transport.ToString(), NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(device.Authentication.ToString(), NpgsqlDbType.Text, cancellationToken);
                if (device.CredentialId is { } credentialId)
                {
                    await copy.WriteAsync(credentialId, NpgsqlDbType.Bigint, cancellationToken);
                }
                else
                {
                    await copy.WriteNullAsync(cancellationToken);
                }

                await copy.WriteAsync(device.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(device.Tags.Select(Device.KeyOf).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(device.Enabled, NpgsqlDbType.Boolean, cancellationToken);
                await copy.WriteAsync(device.RemediationExcluded, NpgsqlDbType.Boolean, cancellationToken);
                await copy.WriteAsync(device.Spn, NpgsqlDbType.Text, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        int reachChanged;
        await using (var auditReach = new NpgsqlCommand(
            DeviceReach.AuditChangesSql("device_import", "d.host_name_key = s.host_name_key", "s.service_principal_name"), connection))
        {
            auditReach.Parameters.AddWithValue("now", now);
            auditReach.Parameters.AddWithValue("actor", actor);
            reachChanged = await auditReach.ExecuteNonQueryAsync(cancellationToken);
        }

        // xmax = 0 tells a freshly inserted row from one that ON CONFLICT updated.
        await using var upsert = new NpgsqlCommand("""
            WITH upserted AS (
                INSERT INTO devices (host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys,
                                     enabled, remediation_excluded, service_principal_name, state, created_at, updated_at)
                SELECT host_name, host_name_key, endpoint, transport, authentication, credential_id, tags, tag_keys,
                       enabled, remediation_excluded, service_principal_name, 'Unknown', @now, @now
                FROM device_import
                ON CONFLICT (host_name_key) DO UPDATE SET
                    host_name = EXCLUDED.host_name, endpoint = EXCLUDED.endpoint, transport = EXCLUDED.transport,
                    authentication = EXCLUDED.authentication, credential_id = EXCLUDED.credential_id, tags = EXCLUDED.tags,
                    tag_keys = EXCLUDED.tag_keys, enabled = EXCLUDED.enabled, remediation_excluded = EXCLUDED.remediation_excluded,
                    service_principal_name = EXCLUDED.service_principal_name, updated_at = EXCLUDED.updated_at
                -- Re-importing the same inventory must not rewrite 100,000 rows (and every index entry) for nothing.
                WHERE (devices.host_name, devices.endpoint, devices.transport, devices.authentication, devices.credential_id,
                       devices.tags, devices.enabled, devices.remediation_excluded, devices.service_principal_name)
                      IS DISTINCT FROM (EXCLUDED.host_name, EXCLUDED.endpoint, EXCLUDED.transport, EXCLUDED.authentication,
                       EXCLUDED.credential_id, EXCLUDED.tags, EXCLUDED.enabled, EXCLUDED.remediation_excluded,
                       EXCLUDED.service_principal_name)
                RETURNING (xmax = 0) AS inserted)
            SELECT count(*) FILTER (WHERE inserted) FROM upserted
            """, connection);
        upsert.Parameters.AddWithValue("now", now);
        return ((int)(long)(await upsert.ExecuteScalarAsync(cancellationToken))!, reachChanged);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
