using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Audit;

/// <summary>
/// One state-changing call, appended to its tenant's hash chain: <see cref="Hash"/> covers the record's
/// fields and <see cref="PreviousHash"/>, so changing, removing or reordering a record breaks every hash
/// after it. Never updated or deleted by the platform.
/// </summary>
public sealed class AuditRecord : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    /// <summary>Position in the tenant's chain, from 1, without gaps.</summary>
    public long Sequence { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary><c>user</c>, <c>client</c>, <c>api-key</c> or <c>system</c>.</summary>
    public required string ActorType { get; set; }

    public required string ActorId { get; set; }

    /// <summary>What was done, e.g. <c>api-key.created</c>.</summary>
    public required string Action { get; set; }

    public required string TargetType { get; set; }

    public required string TargetId { get; set; }

    /// <summary>SHA-256 of the target's state before and after (null where it did not exist).</summary>
    public string? BeforeDigest { get; set; }

    public string? AfterDigest { get; set; }

    public string? TraceId { get; set; }

    /// <summary>A few non-secret facts about the change, as JSON.</summary>
    public string? Details { get; set; }

    public required string PreviousHash { get; set; }

    public required string Hash { get; set; }
}

internal sealed class AuditRecordConfiguration : IEntityTypeConfiguration<AuditRecord>
{
    public void Configure(EntityTypeBuilder<AuditRecord> builder)
    {
        builder.ToTable("audit_records");
        builder.HasKey(r => r.Id);
        builder.HasIndex(r => new { r.TenantId, r.Sequence }).IsUnique();
        builder.HasIndex(r => new { r.TenantId, r.OccurredAt });
        builder.HasIndex(r => new { r.TenantId, r.Action });
        builder.Property(r => r.ActorType).HasMaxLength(20);
        builder.Property(r => r.ActorId).HasMaxLength(200);
        builder.Property(r => r.Action).HasMaxLength(100);
        builder.Property(r => r.TargetType).HasMaxLength(100);
        builder.Property(r => r.TargetId).HasMaxLength(200);
        builder.Property(r => r.BeforeDigest).HasMaxLength(64).IsFixedLength();
        builder.Property(r => r.AfterDigest).HasMaxLength(64).IsFixedLength();
        builder.Property(r => r.TraceId).HasMaxLength(32);
        builder.Property(r => r.Details).HasMaxLength(4000);
        builder.Property(r => r.PreviousHash).HasMaxLength(64).IsFixedLength();
        builder.Property(r => r.Hash).HasMaxLength(64).IsFixedLength();
    }
}
