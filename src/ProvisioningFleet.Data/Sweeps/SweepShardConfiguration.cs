using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Sweeps;

internal sealed class SweepShardConfiguration : IEntityTypeConfiguration<SweepShard>
{
    public void Configure(EntityTypeBuilder<SweepShard> shard)
    {
        shard.ToTable("sweep_shards");
        shard.HasKey(s => new { s.SweepId, s.Index });
        shard.Property(s => s.JobId).HasMaxLength(64);
        shard.HasOne<Sweep>().WithMany().HasForeignKey(s => s.SweepId).OnDelete(DeleteBehavior.Cascade);
    }
}
