using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Sweeps;

internal sealed class SweepConfiguration : IEntityTypeConfiguration<Sweep>
{
    public void Configure(EntityTypeBuilder<Sweep> sweep)
    {
        sweep.ToTable("sweeps");
        sweep.Property(s => s.Status).HasMaxLength(16);
        sweep.Property(s => s.Trigger).HasMaxLength(16);
        sweep.Property(s => s.Tag).HasMaxLength(FleetLimits.Tag);
        sweep.Property(s => s.RequestedBy).HasMaxLength(256);
        sweep.Property(s => s.Error).HasMaxLength(FleetLimits.ErrorMessage);
        sweep.Property(s => s.ByState)
            .HasColumnType("jsonb")
            .HasConversion(
                counts => JsonSerializer.Serialize(counts, JsonSerializerOptions.Default),
                json => JsonSerializer.Deserialize<Dictionary<string, int>>(json, JsonSerializerOptions.Default) ?? new Dictionary<string, int>(),
                new ValueComparer<Dictionary<string, int>>(
                    (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                    counts => counts.Aggregate(0, (hash, pair) => HashCode.Combine(hash, pair.Key, pair.Value)),
                    counts => new Dictionary<string, int>(counts)));
        sweep.HasIndex(s => s.RequestedAt).IsDescending();
        // At most one sweep runs at a time, across all service instances: the next one waits Queued.
        sweep.HasIndex(s => s.Status, "ux_sweeps_one_running").HasDatabaseName("ux_sweeps_one_running").IsUnique().HasFilter("status = 'Running'");
        sweep.HasIndex(s => s.Status);
    }
}
