using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>
/// An opaque refresh token, stored as its SHA-256 only. Every use consumes it and issues its successor in the
/// same family; presenting a consumed token after the grace period revokes the whole family (RFC 9700
/// §4.14.2).
/// </summary>
public sealed class RefreshToken : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    /// <summary>All tokens descending from one sign-in.</summary>
    public Guid FamilyId { get; set; }

    public required string TokenHash { get; set; }

    /// <summary><c>user</c> or <c>client</c>.</summary>
    public required string SubjectType { get; set; }

    public required string SubjectId { get; set; }

    /// <summary>The subject's security stamp when the family began; a change invalidates the family.</summary>
    public Guid SecurityStamp { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime? ConsumedAt { get; set; }

    public Guid? ReplacedById { get; set; }

    public DateTime? RevokedAt { get; set; }

    public string? RevocationReason { get; set; }

    /// <summary>Optimistic concurrency: two parallel uses of one token cannot both consume it.</summary>
    public Guid Version { get; set; }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> builder)
    {
        builder.ToTable("refresh_tokens");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.TokenHash).HasMaxLength(64).IsFixedLength();
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.FamilyId);
        builder.HasIndex(t => t.ExpiresAt);
        builder.Property(t => t.SubjectType).HasMaxLength(20);
        builder.Property(t => t.SubjectId).HasMaxLength(100);
        builder.Property(t => t.RevocationReason).HasMaxLength(200);
        builder.Property(t => t.Version).IsConcurrencyToken();
    }
}
