using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>
/// An RSA key that signs access tokens. Platform data. Its life: published in the JWKS from
/// <see cref="CreatedAt"/>, signs from <see cref="ActivatesAt"/> (after caches have seen it) until
/// <see cref="RetiresAt"/>, and stays published until <see cref="ExpiresAt"/>, when no token it signed is
/// still valid. The private key is stored encrypted.
/// </summary>
public sealed class SigningKey
{
    public required string Kid { get; set; }

    public required string Algorithm { get; set; }

    /// <summary>The public key as a JWK (JSON).</summary>
    public required string PublicJwk { get; set; }

    /// <summary>The PKCS#8 private key, AES-256-GCM encrypted with the key-encryption key (base64).</summary>
    public required string EncryptedPrivateKey { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ActivatesAt { get; set; }

    public DateTime RetiresAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class SigningKeyConfiguration : IEntityTypeConfiguration<SigningKey>
{
    public void Configure(EntityTypeBuilder<SigningKey> builder)
    {
        builder.ToTable("signing_keys");
        builder.HasKey(k => k.Kid);
        builder.Property(k => k.Kid).HasMaxLength(64);
        builder.Property(k => k.Algorithm).HasMaxLength(10);
        builder.HasIndex(k => k.ExpiresAt);
    }
}
