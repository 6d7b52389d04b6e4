using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Models;

/// <summary>One concrete model behind a route: a provider, an endpoint, a model name, limits and prices.</summary>
public sealed class ModelDeployment : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public Guid RouteId { get; set; }

    /// <summary>Unique within the route; appears in attempts and usage records.</summary>
    public required string Name { get; set; }

    /// <summary><c>openai</c> (any OpenAI-compatible endpoint), <c>azure-openai</c>, <c>ollama</c> or <c>offline</c>.</summary>
    public required string Provider { get; set; }

    public string? Endpoint { get; set; }

    /// <summary>The provider's model (or Azure deployment) name.</summary>
    public required string Model { get; set; }

    public Guid? CredentialId { get; set; }

    /// <summary>Lower is tried first (strategy <c>priority</c>).</summary>
    public int Priority { get; set; }

    /// <summary>Share of traffic (strategy <c>weighted</c>).</summary>
    public int Weight { get; set; } = 1;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public int MaxRetries { get; set; }

    /// <summary>How long a failing deployment is skipped.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(30);

    public int ContextWindow { get; set; } = 128_000;

    /// <summary>Prices in micro-units of the platform currency per million tokens.</summary>
    public long InputPriceMicros { get; set; }

    public long OutputPriceMicros { get; set; }

    public long CachedInputPriceMicros { get; set; }

    public bool Enabled { get; set; } = true;
}

internal sealed class ModelDeploymentConfiguration : IEntityTypeConfiguration<ModelDeployment>
{
    public void Configure(EntityTypeBuilder<ModelDeployment> builder)
    {
        builder.ToTable("model_deployments");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Name).HasMaxLength(100);
        builder.HasIndex(d => new { d.RouteId, d.Name }).IsUnique();
        builder.Property(d => d.Provider).HasMaxLength(20);
        builder.Property(d => d.Endpoint).HasMaxLength(500);
        builder.Property(d => d.Model).HasMaxLength(200);
    }
}
