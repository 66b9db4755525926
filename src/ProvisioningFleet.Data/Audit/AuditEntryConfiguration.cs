using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Audit;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> entry)
    {
        entry.ToTable("audit_entries");
        entry.Property(e => e.Actor).HasMaxLength(256);
        entry.Property(e => e.Action).HasMaxLength(64);
        entry.Property(e => e.Target).HasMaxLength(512);
        entry.Property(e => e.Details).HasColumnType("jsonb");
        entry.HasIndex(e => e.At).IsDescending();
        entry.HasIndex(e => new { e.Actor, e.At }).IsDescending(false, true);
    }
}
