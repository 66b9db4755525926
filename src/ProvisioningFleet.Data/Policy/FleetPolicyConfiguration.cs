using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Policy;

internal sealed class FleetPolicyConfiguration : IEntityTypeConfiguration<FleetPolicy>
{
    public void Configure(EntityTypeBuilder<FleetPolicy> policy)
    {
        policy.ToTable("fleet_policy", table => table.HasCheckConstraint("ck_fleet_policy_single_row", $"id = {FleetPolicy.SingletonId}"));
        policy.Property(p => p.Id).ValueGeneratedNever();
        policy.Property(p => p.SweepCron).HasMaxLength(128);
        policy.Property(p => p.UpdatedBy).HasMaxLength(256);
        policy.HasData(new FleetPolicy());
    }
}
