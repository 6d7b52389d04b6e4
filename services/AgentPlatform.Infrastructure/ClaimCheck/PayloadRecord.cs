using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>A claim-check reference: the opaque id handed out as <c>context_ref_id</c> / <c>result_ref_id</c>.</summary>
public sealed class PayloadRecord : ITenantOwned
{
    public required string Id { get; set; }

    public required string TenantId { get; set; }

    public Guid BlobId { get; set; }

    public required string Sha256 { get; set; }

    public long Size { get; set; }

    public required string ContentType { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class PayloadRecordConfiguration : IEntityTypeConfiguration<PayloadRecord>
{
    public void Configure(EntityTypeBuilder<PayloadRecord> builder)
    {
        builder.ToTable("payload_records");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).HasMaxLength(40);
        builder.Property(r => r.Sha256).HasMaxLength(64).IsFixedLength();
        builder.Property(r => r.ContentType).HasMaxLength(200);
        builder.HasIndex(r => new { r.TenantId, r.CreatedAt });
        builder.HasIndex(r => r.ExpiresAt);
        builder.HasIndex(r => r.BlobId);
    }
}
