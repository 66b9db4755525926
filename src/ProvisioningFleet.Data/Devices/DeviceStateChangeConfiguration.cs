using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Devices;

internal sealed class DeviceStateChangeConfiguration : IEntityTypeConfiguration<DeviceStateChange>
{
    public void Configure(EntityTypeBuilder<DeviceStateChange> change)
    {
        change.ToTable("device_state_changes");
        change.Property(c => c.FromState).HasMaxLength(32);
        change.Property(c => c.ToState).HasMaxLength(32);
        change.Property(c => c.ClientId).HasMaxLength(128);
        change.Property(c => c.ErrorCategory).HasMaxLength(32);
        change.Property(c => c.ErrorMessage).HasMaxLength(FleetLimits.ErrorMessage);
        change.HasIndex(c => new { c.DeviceId, c.At }).IsDescending(false, true);
        // Retention deletes by age across all devices.
        change.HasIndex(c => c.At);
        change.HasOne<Device>().WithMany().HasForeignKey(c => c.DeviceId).OnDelete(DeleteBehavior.Cascade);
    }
}
