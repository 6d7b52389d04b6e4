using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>A tenant of the platform. Platform data, not tenant-owned: only platform admins manage it.</summary>
public sealed class Tenant
{
    public required string Id { get; set; }

    public required string DisplayName { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>A disabled tenant's credentials stop working: no token is issued or refreshed for it.</summary>
    public DateTime? DisabledAt { get; set; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> builder)
    {
        builder.ToTable("tenants");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasMaxLength(Domain.Tenancy.TenantId.MaxLength);
        builder.Property(t => t.DisplayName).HasMaxLength(200);
    }
}
