using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Models;

/// <summary>
/// A spending limit per period for the whole tenant, one user or one API key. Every budget that applies to a
/// call must have room for it: a key's and its user's limits both apply, so the stricter wins.
/// </summary>
public sealed class ModelBudget : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    /// <summary><c>tenant</c>, <c>user</c> or <c>api-key</c>.</summary>
    public required string Scope { get; set; }

    /// <summary>The tenant, user or API key id the budget applies to.</summary>
    public required string SubjectId { get; set; }

    /// <summary>The limit in micro-units of the platform currency.</summary>
    public long LimitMicros { get; set; }

    /// <summary><c>daily</c> or <c>monthly</c> (UTC calendar periods).</summary>
    public required string Period { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class ModelBudgetConfiguration : IEntityTypeConfiguration<ModelBudget>
{
    public void Configure(EntityTypeBuilder<ModelBudget> builder)
    {
        builder.ToTable("model_budgets");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Scope).HasMaxLength(20);
        builder.Property(b => b.SubjectId).HasMaxLength(100);
        builder.Property(b => b.Period).HasMaxLength(20);
        builder.HasIndex(b => new { b.TenantId, b.Scope, b.SubjectId, b.Period }).IsUnique();
    }
}
