using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Audit;

/// <summary>
/// The end of a tenant's audit chain. Appending updates it in the same transaction as the record, which
/// serializes a tenant's appends (row lock on PostgreSQL, the write lock on SQLite) and keeps the chain
/// gap-free.
/// </summary>
public sealed class AuditChainHead : ITenantOwned
{
    public required string TenantId { get; set; }

    public long LastSequence { get; set; }

    public required string LastHash { get; set; }
}

internal sealed class AuditChainHeadConfiguration : IEntityTypeConfiguration<AuditChainHead>
{
    public void Configure(EntityTypeBuilder<AuditChainHead> builder)
    {
        builder.ToTable("audit_chain_heads");
        builder.HasKey(h => h.TenantId);
        builder.Property(h => h.LastHash).HasMaxLength(64).IsFixedLength();
        builder.Property(h => h.LastSequence).IsConcurrencyToken();
    }
}
