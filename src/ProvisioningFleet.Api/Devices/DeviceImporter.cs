using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using ProvisioningFleet.Api.Access;
using ProvisioningFleet.Api.Audit;
using ProvisioningFleet.Api.Validation;
using ProvisioningFleet.Data;
using ProvisioningFleet.Data.Devices;

namespace ProvisioningFleet.Api.Devices;

/// <summary>
/// Imports many devices at once, all or nothing: every row is validated first (each bad row and
/// field named), then written by <see cref="DeviceBulkImport"/> in one transaction with the audit entry.
/// </summary>
public sealed class DeviceImporter(FleetDbContext db, IAuditTrail audit, DeviceEndpointRules endpoints, TimeProvider time)
{
    /// <summary>
    /// Validates every row into <paramref name="errors"/> (which may already hold faults found while
    /// reading the file) and imports only when there are none; null means nothing was imported.
    /// </summary>
    public async Task<ImportResult?> ImportAsync(
        IReadOnlyList<DeviceInput> rows, ClaimsPrincipal actor, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var credentials = await db.Credentials.AsNoTracking().ToDictionaryAsync(c => c.Name, StringComparer.Ordinal, cancellationToken);
        var devices = new List<ValidDevice>(rows.Count);
        var firstRowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = i + 1;
            if (DeviceRules.Validate(rows[i], $"rows[{row}].", errors, credentials, endpoints) is not { } device)
            {
                continue;
            }

            if (firstRowOf.TryGetValue(Device.KeyOf(device.HostName), out var first))
            {
                errors.Add($"rows[{row}].hostName", $"'{device.HostName}' is also in row {first}; a host may appear once per import.");
                continue;
            }

            firstRowOf.Add(Device.KeyOf(device.HostName), row);
            devices.Add(device);
        }

        if (errors.Any)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var (created, reachChanged) = await DeviceBulkImport.UpsertAsync(db, devices, actor.ActorName(), now, cancellationToken);
        // Host names are unique within a file (checked above), so every row not created matched a device: updated, changed or not.
        var updated = devices.Count - created;

        audit.Record(db, actor, "device.import", "devices", new { rows = devices.Count, created, updated, endpointsChanged = reachChanged });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ImportResult(created, updated);
    }
}

public sealed record ImportResult(int Created, int Updated);
