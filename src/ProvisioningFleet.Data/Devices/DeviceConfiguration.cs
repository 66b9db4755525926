using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Data.Devices;

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> device)
    {
        device.ToTable("devices");
        device.Property(d => d.HostName).HasMaxLength(253);
        device.Property(d => d.HostNameKey).HasMaxLength(253);
        device.HasIndex(d => d.HostNameKey).IsUnique();
        // Substring search ("part of the host name") stays an index scan at 100,000 rows.
        device.HasIndex(d => d.HostNameKey, "ix_devices_host_name_key_trgm")
            .HasMethod("gin")
            .HasOperators("gin_trgm_ops");
        device.Property(d => d.Endpoint).HasMaxLength(2048);
        device.Property(d => d.Transport).HasMaxLength(16);
        device.Property(d => d.Authentication).HasMaxLength(16);
        device.Property(d => d.TagKeys);
        device.HasIndex(d => d.TagKeys).HasMethod("gin");
        device.Property(d => d.Enabled).HasDefaultValue(true).ValueGeneratedNever();
        device.Property(d => d.State).HasMaxLength(32).HasDefaultValue(DeviceState.Unknown).ValueGeneratedNever();
        // Lists filter by state and page in host-name order: the index hands the rows over already sorted.
        device.HasIndex(d => new { d.State, d.HostNameKey });
        // Disabled devices are few; without this, "enabled=false" reads the whole table.
        device.HasIndex(d => d.HostNameKey, "ix_devices_disabled_host_name_key").HasFilter("NOT enabled");
        device.Property(d => d.ClientId).HasMaxLength(128);
        device.Property(d => d.LastErrorCategory).HasMaxLength(32);
        device.Property(d => d.LastErrorMessage).HasMaxLength(4000);
        device.Property(d => d.Version).IsRowVersion();

        device.HasOne(d => d.Credential)
            .WithMany()
            .HasForeignKey(d => d.CredentialId)
            .OnDelete(DeleteBehavior.Restrict);
        device.HasOne(d => d.LastRemediation)
            .WithMany()
            .HasForeignKey(d => d.LastRemediationId)
            .OnDelete(DeleteBehavior.SetNull);
    }
}
