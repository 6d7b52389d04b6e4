using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Models;

/// <summary>
/// A tenant's model alias (what callers put in <c>model</c>) and how calls to it are spread over its
/// deployments. A tenant route replaces the platform's default route of the same alias for that tenant.
/// </summary>
public sealed class ModelRoute : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string Alias { get; set; }

    /// <summary><c>priority</c>, <c>weighted</c>, <c>lowest-latency</c> or <c>least-busy</c>.</summary>
    public required string Strategy { get; set; }

    /// <summary>Aliases tried in order when every deployment of this route failed with a fallback trigger.</summary>
    public List<string> Fallbacks { get; set; } = [];

    public string? Description { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency for admin edits.</summary>
    public Guid Version { get; set; }

    public List<ModelDeployment> Deployments { get; set; } = [];
}

internal sealed class ModelRouteConfiguration : IEntityTypeConfiguration<ModelRoute>
{
    public void Configure(EntityTypeBuilder<ModelRoute> builder)
    {
        builder.ToTable("model_routes");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Alias).HasMaxLength(100);
        builder.HasIndex(r => new { r.TenantId, r.Alias }).IsUnique();
        builder.Property(r => r.Strategy).HasMaxLength(20);
        builder.Property(r => r.Description).HasMaxLength(500);
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.HasMany(r => r.Deployments).WithOne().HasForeignKey(d => d.RouteId).OnDelete(DeleteBehavior.Cascade);
    }
}
