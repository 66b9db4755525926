using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ProvisioningFleet.Data.Credentials;

internal sealed class CredentialConfiguration : IEntityTypeConfiguration<Credential>
{
    public void Configure(EntityTypeBuilder<Credential> credential)
    {
        credential.ToTable("credentials");
        credential.Property(c => c.Name).HasMaxLength(128);
        credential.HasIndex(c => c.Name).IsUnique();
        credential.Property(c => c.UserName).HasMaxLength(256);
        credential.Property(c => c.Domain).HasMaxLength(256);
        credential.Property(c => c.ProtectedPassword).HasMaxLength(8192);
        credential.Property(c => c.AllowedHosts).HasDefaultValueSql("'{}'::text[]");
        credential.PrimitiveCollection(c => c.AllowedAuthentications).HasDefaultValueSql("'{}'::text[]").ElementType().HasConversion<string>();
    }
}
