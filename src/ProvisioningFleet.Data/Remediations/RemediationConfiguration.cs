using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProvisioningFleet.Data.Devices;
using ProvisioningFleet.Data.Sweeps;

namespace ProvisioningFleet.Data.Remediations;

internal sealed class RemediationConfiguration : IEntityTypeConfiguration<Remediation>
{
    public void Configure(EntityTypeBuilder<Remediation> remediation)
    {
        remediation.ToTable("remediations");
        remediation.Property(r => r.HostName).HasMaxLength(FleetLimits.HostName);
        remediation.Property(r => r.Trigger).HasMaxLength(16);
        remediation.Property(r => r.Actor).HasMaxLength(256);
        remediation.Property(r => r.Outcome).HasMaxLength(16);
        remediation.Property(r => r.SkipReason).HasMaxLength(32);
        remediation.Property(r => r.Justification).HasMaxLength(FleetLimits.Justification);
        remediation.Property(r => r.ClientId).HasMaxLength(128);
        remediation.Property(r => r.ErrorCategory).HasMaxLength(32);
        remediation.Property(r => r.ErrorMessage).HasMaxLength(FleetLimits.ErrorMessage);
        remediation.Property(r => r.PolicyRetrievalError).HasMaxLength(FleetLimits.ErrorMessage);
        remediation.Property(r => r.SystemTaskExcludesBefore).HasMaxLength(FleetLimits.SystemTaskExcludes);
        remediation.Property(r => r.SystemTaskExcludesAfter).HasMaxLength(FleetLimits.SystemTaskExcludes);

        remediation.HasIndex(r => new { r.DeviceId, r.RequestedAt }).IsDescending(false, true);
        remediation.HasIndex(r => new { r.Outcome, r.RequestedAt }).IsDescending(false, true);
        remediation.HasIndex(r => r.RequestedAt).IsDescending();
        // One record per device per sweep: a shard re-run after a crash finds it and never fixes the device twice.
        remediation.HasIndex(r => new { r.SweepId, r.DeviceId }).IsUnique().HasFilter("sweep_id IS NOT NULL");
        // The database, not a race between two callers, decides that only one fix of a device runs at a time.
        remediation.HasIndex(r => r.DeviceId, Remediation.OneInProgressIndex)
            .HasDatabaseName(Remediation.OneInProgressIndex)
            .IsUnique()
            .HasFilter("outcome = 'InProgress'");

        remediation.HasOne<Device>().WithMany().HasForeignKey(r => r.DeviceId).OnDelete(DeleteBehavior.Cascade);
        remediation.HasOne<Sweep>().WithMany().HasForeignKey(r => r.SweepId).OnDelete(DeleteBehavior.SetNull);
    }
}
