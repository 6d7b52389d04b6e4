using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Models;

/// <summary>A provider API key of a tenant, encrypted at rest; write-only through the admin API.</summary>
public sealed class ProviderCredential : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string Name { get; set; }

    /// <summary>The secret, encrypted with the platform's key-encryption key (AES-256-GCM).</summary>
    public required string EncryptedSecret { get; set; }

    /// <summary>The secret's last four characters, to tell credentials apart.</summary>
    public required string Hint { get; set; }

    public required string CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class ProviderCredentialConfiguration : IEntityTypeConfiguration<ProviderCredential>
{
    public void Configure(EntityTypeBuilder<ProviderCredential> builder)
    {
        builder.ToTable("provider_credentials");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.HasIndex(c => new { c.TenantId, c.Name }).IsUnique();
        builder.Property(c => c.Hint).HasMaxLength(8);
        builder.Property(c => c.CreatedBy).HasMaxLength(200);
    }
}
