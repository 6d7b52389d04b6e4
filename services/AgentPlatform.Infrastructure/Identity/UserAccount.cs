using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Identity;

/// <summary>
/// A person who signs in with a user name and password. User names are unique across the platform, so the
/// credential alone says which tenant a sign-in is for.
/// </summary>
public sealed class UserAccount : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string UserName { get; set; }

    /// <summary>Upper-invariant <see cref="UserName"/>; the unique lookup key.</summary>
    public required string NormalizedUserName { get; set; }

    public required string DisplayName { get; set; }

    /// <summary>ASP.NET Core Identity's password hash (PBKDF2 with a per-password salt).</summary>
    public required string PasswordHash { get; set; }

    public List<string> Roles { get; set; } = [];

    public int FailedSignInCount { get; set; }

    public DateTime? LockedOutUntil { get; set; }

    /// <summary>Changes whenever the password or roles change; refresh tokens issued before stop working.</summary>
    public Guid SecurityStamp { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? DisabledAt { get; set; }

    /// <summary>Optimistic concurrency: failed sign-ins and lockouts count exactly under parallel attempts.</summary>
    public Guid Version { get; set; }
}

internal sealed class UserAccountConfiguration : IEntityTypeConfiguration<UserAccount>
{
    public void Configure(EntityTypeBuilder<UserAccount> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.UserName).HasMaxLength(100);
        builder.Property(u => u.NormalizedUserName).HasMaxLength(100);
        builder.HasIndex(u => u.NormalizedUserName).IsUnique();
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.PasswordHash).HasMaxLength(500);
        builder.Property(u => u.Version).IsConcurrencyToken();
        builder.HasIndex(u => new { u.TenantId, u.UserName });
    }
}
