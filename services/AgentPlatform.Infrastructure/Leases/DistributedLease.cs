using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Leases;

/// <summary>A named lease in the relational store: at most one owner holds it until it expires.</summary>
public sealed class DistributedLease
{
    public required string Name { get; set; }

    public required string Owner { get; set; }

    public DateTime AcquiredAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class DistributedLeaseConfiguration : IEntityTypeConfiguration<DistributedLease>
{
    public void Configure(EntityTypeBuilder<DistributedLease> builder)
    {
        builder.ToTable("distributed_leases");
        builder.HasKey(l => l.Name);
        builder.Property(l => l.Name).HasMaxLength(200);
        builder.Property(l => l.Owner).HasMaxLength(200);
    }
}
