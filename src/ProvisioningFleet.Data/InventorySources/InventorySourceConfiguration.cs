using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.InventorySources;

internal sealed class InventorySourceConfiguration : IEntityTypeConfiguration<InventorySource>
{
    public void Configure(EntityTypeBuilder<InventorySource> source)
    {
        source.ToTable("inventory_sources");
        source.Property(s => s.Name).HasMaxLength(128);
        source.HasIndex(s => s.Name).IsUnique();
        source.Property(s => s.AdminServiceUrl).HasMaxLength(2048);
        source.Property(s => s.CertificateSha256).HasMaxLength(128);
        source.Property(s => s.EndpointTemplate).HasMaxLength(2048);
        source.Property(s => s.Authentication).HasMaxLength(16);
        source.Property(s => s.SyncCron).HasMaxLength(128);
        source.Property(s => s.OnRemoved).HasMaxLength(16);
        source.Property(s => s.Enabled).HasDefaultValue(true).ValueGeneratedNever();
        // A credential in use by a source cannot be deleted from under it.
        source.HasOne(s => s.Credential).WithMany().HasForeignKey(s => s.CredentialId).OnDelete(DeleteBehavior.Restrict);
        source.HasOne(s => s.DeviceCredential).WithMany().HasForeignKey(s => s.DeviceCredentialId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class InventorySyncRunConfiguration : IEntityTypeConfiguration<InventorySyncRun>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Configure(EntityTypeBuilder<InventorySyncRun> run)
    {
        run.ToTable("inventory_sync_runs");
        run.Property(r => r.Status).HasMaxLength(16);
        run.Property(r => r.Trigger).HasMaxLength(16);
        run.Property(r => r.RequestedBy).HasMaxLength(256);
        run.Property(r => r.Error).HasMaxLength(4000);
        run.Property(r => r.Skipped)
            .HasColumnType("jsonb")
            .HasConversion(
                skipped => JsonSerializer.Serialize(skipped, Json),
                json => JsonSerializer.Deserialize<List<InventorySkip>>(json, Json) ?? new List<InventorySkip>(),
                new ValueComparer<List<InventorySkip>>(
                    (a, b) => a!.SequenceEqual(b!),
                    skipped => skipped.Aggregate(0, (hash, skip) => HashCode.Combine(hash, skip)),
                    skipped => skipped.ToList()));
        run.HasOne<InventorySource>().WithMany().HasForeignKey(r => r.SourceId).OnDelete(DeleteBehavior.Cascade);
        run.HasIndex(r => new { r.SourceId, r.RequestedAt }).IsDescending(false, true);
        // One sync of a source at a time, across all service instances (a scheduled one and "sync now" alike).
        run.HasIndex(r => r.SourceId, InventorySyncRun.OneInProgressIndex).HasDatabaseName(InventorySyncRun.OneInProgressIndex).IsUnique()
            .HasFilter("status IN ('Queued', 'Running')");
    }
}
