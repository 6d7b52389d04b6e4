using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// One stored copy of a tenant's content, addressed by SHA-256. Each copy is a generation with its own
/// object key, so cleanup of an expired copy can never remove bytes a newer reference points to.
/// <see cref="ExpiresAt"/> is the latest expiry of the references that use it.
/// </summary>
public sealed class PayloadBlob : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string Sha256 { get; set; }

    public long Size { get; set; }

    /// <summary>The object's key in the blob storage: tenant-scoped and content-addressed.</summary>
    public required string StorageKey { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class PayloadBlobConfiguration : IEntityTypeConfiguration<PayloadBlob>
{
    public void Configure(EntityTypeBuilder<PayloadBlob> builder)
    {
        builder.ToTable("payload_blobs");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Sha256).HasMaxLength(64).IsFixedLength();
        builder.Property(b => b.StorageKey).HasMaxLength(300);
        builder.HasIndex(b => new { b.TenantId, b.Sha256 });
        builder.HasIndex(b => b.ExpiresAt);
    }
}
