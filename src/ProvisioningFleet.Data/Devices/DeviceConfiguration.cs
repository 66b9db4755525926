using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ProvisioningFleet.Core.Verdicts;

namespace ProvisioningFleet.Data.Devices;

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> device)
    {
        device.ToTable("devices");
        device.Property(d => d.HostName).HasMaxLength(FleetLimits.HostName);
        device.Property(d => d.HostNameKey).HasMaxLength(FleetLimits.HostName);
        // Lists page in host-name order with filters on state, enabled and tags. The unique index carries
        // those columns too, so that counting a filtered set and skipping to a deep page are index-only
        // scans that never touch the wide rows.
        device.HasIndex(d => d.HostNameKey).IsUnique()
            .HasDatabaseName("ix_devices_host_name_key")
            .IncludeProperties(d => new { d.Id, d.State, d.Enabled, d.TagKeys });
        // Substring search ("part of the host name"). GiST rather than GIN: a search shares its common
        // trigrams (a naming scheme's prefix) with every row, and GIN reads all of their posting lists.
        // The operator class takes 64-byte signatures (siglen=64), set by the TrigramSignatureLength migration
        // in SQL, as EF quotes an operator class with parameters. Under the "C" collation, so that only a query that
        // asks for it (the device list's search) can use it: the trigram operator class also answers "=",
        // and the planner took it for every lookup by key, at 0.4 ms a lookup against the unique index's 0.02
        // (an import of 5,000 known devices spent 2 s on it at a million rows).
        device.HasIndex(d => d.HostNameKey, "ix_devices_host_name_key_trgm")
            .HasDatabaseName("ix_devices_host_name_key_trgm")
            .HasMethod("gist")
            .HasOperators("gist_trgm_ops")
            .UseCollation(Device.SearchCollation);
        device.Property(d => d.Endpoint).HasMaxLength(2048);
        device.Property(d => d.Transport).HasMaxLength(16);
        device.Property(d => d.Authentication).HasMaxLength(16);
        device.Property(d => d.ServicePrincipalName).HasMaxLength(FleetLimits.ServicePrincipalName);
        device.Property(d => d.TagKeys);
        // A rare tag is found through the GIN index; a common one by the covering index above.
        device.HasIndex(d => d.TagKeys).HasMethod("gin");
        device.Property(d => d.Enabled).HasDefaultValue(true).ValueGeneratedNever();
        device.Property(d => d.State).HasMaxLength(32).HasDefaultValue(DeviceState.Unknown).ValueGeneratedNever();
        device.HasIndex(d => new { d.State, d.HostNameKey })
            .HasDatabaseName("ix_devices_state_host_name_key")
            .IncludeProperties(d => new { d.Id, d.Enabled, d.TagKeys });
        // Disabled devices are few; without this, "enabled=false" reads the whole covering index.
        device.HasIndex(d => d.HostNameKey, "ix_devices_disabled_host_name_key")
            .HasDatabaseName("ix_devices_disabled_host_name_key")
            .IncludeProperties(d => new { d.Id })
            .HasFilter("NOT enabled");
        // Every sweep rewrites every row's verdict, and index-only scans need the visibility map set
        // again soon after: vacuum after 2% of the rows changed instead of the default 20%.
        device.HasStorageParameter("autovacuum_vacuum_scale_factor", 0.02);
        // Room on each page for a row's next version: a verdict that leaves the indexed columns alone (the
        // common case: still Healthy, only last_checked_at moves) is then a HOT update that adds no index entry
        // to any of the five indexes. At 85 only 43 % of a steady sweep's updates found room (#15).
        device.HasStorageParameter("fillfactor", 70);
        device.HasStorageParameter("autovacuum_analyze_scale_factor", 0.02);
        device.Property(d => d.ClientId).HasMaxLength(128);
        device.Property(d => d.LastErrorCategory).HasMaxLength(32);
        device.Property(d => d.LastErrorMessage).HasMaxLength(FleetLimits.ErrorMessage);
        device.Property(d => d.Version).IsRowVersion();

        device.HasOne(d => d.Credential)
            .WithMany()
            .HasForeignKey(d => d.CredentialId)
            .OnDelete(DeleteBehavior.Restrict);
        device.Property(d => d.ExpectedClientId).HasMaxLength(128);
        // A deleted source leaves its devices behind as manual ones.
        device.HasOne(d => d.InventorySource).WithMany().HasForeignKey(d => d.InventorySourceId).OnDelete(DeleteBehavior.SetNull);
        // A sync finds its devices by source and resource, and one resource is one device of a source.
        device.HasIndex(d => new { d.InventorySourceId, d.SourceResourceId })
            .HasDatabaseName("ux_devices_source_resource")
            .IsUnique()
            .HasFilter("inventory_source_id IS NOT NULL");
        device.HasOne(d => d.LastRemediation)
            .WithMany()
            .HasForeignKey(d => d.LastRemediationId)
            .OnDelete(DeleteBehavior.SetNull);
    }
}
