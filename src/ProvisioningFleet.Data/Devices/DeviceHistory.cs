using Microsoft.EntityFrameworkCore;

namespace ProvisioningFleet.Data.Devices;

/// <summary>The device_state_changes table beyond what EF's model queries do.</summary>
public static class DeviceHistory
{
    /// <summary>Deletes up to <paramref name="slice"/> rows older than <paramref name="cutoff"/>; returns how many went.</summary>
    public static Task<int> DeleteSliceOlderThanAsync(FleetDbContext db, DateTimeOffset cutoff, int slice, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            DELETE FROM device_state_changes WHERE id IN (SELECT id FROM device_state_changes WHERE at < {cutoff} LIMIT {slice})
            """, cancellationToken);
}
