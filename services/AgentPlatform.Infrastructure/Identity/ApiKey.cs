using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>An integrator's API key (like an AI gateway's virtual key): shown once, stored as its SHA-256.</summary>
public sealed class ApiKey : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string Name { get; set; }

    /// <summary>The key's first characters, so people can tell keys apart without the secret.</summary>
    public required string Prefix { get; set; }

    public required string KeyHash { get; set; }

    /// <summary>What the key may do: a subset of its creator's roles at creation time.</summary>
    public List<string> Roles { get; set; } = [];

    public required string CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Name).HasMaxLength(200);
        builder.Property(k => k.Prefix).HasMaxLength(20);
        builder.Property(k => k.KeyHash).HasMaxLength(64).IsFixedLength();
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.Property(k => k.CreatedBy).HasMaxLength(200);
        builder.HasIndex(k => new { k.TenantId, k.CreatedAt });
    }
}
