using AgentPlatform.Domain.Models;
using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>
/// The platform's default routes (section <c>ModelGateway</c>). Every tenant sees them; a tenant route of the
/// same alias (admin API, database) replaces one for that tenant.
/// </summary>
public sealed class ModelGatewayOptions
{
    public const string SectionName = "ModelGateway";

    /// <summary>Routes by alias (what callers put in <c>model</c>).</summary>
    public Dictionary<string, RouteOptions> Routes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a tenant's routes are served after they were read, at most: an admin change is seen within this. They
    /// are read again in the background after half of it (ADR 11), so calls do not wait for the database.
    /// </summary>
    public TimeSpan RouteCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The output a call without <c>max_tokens</c> is assumed to produce when its cost is reserved; a stream
    /// that goes beyond it reserves more as it goes, and stops when the budget has no more.
    /// </summary>
    [Range(1, 1_000_000)]
    public int DefaultMaxOutputTokens { get; set; } = 4096;

    /// <summary>Where the endpoints of tenant routes may connect (platform routes are the operator's and unrestricted).</summary>
    public TenantEndpointOptions TenantEndpoints { get; set; } = new();
}

/// <summary>
/// Tenant admins name their own endpoints; without a limit a tenant could make the gateway call the platform's
/// internal services or a cloud metadata address. Tenant endpoints reach public addresses only, checked on every
/// connection on the address actually dialled, plus the private networks listed here (an in-cluster vLLM or Ollama).
/// </summary>
public sealed class TenantEndpointOptions
{
    /// <summary>Private networks in CIDR notation (e.g. <c>10.20.0.0/16</c>) that tenant endpoints may reach.</summary>
    public List<string> AllowedPrivateNetworks { get; set; } = [];
}

public sealed class RouteOptions
{
    /// <summary><c>priority</c>, <c>weighted</c>, <c>lowest-latency</c> or <c>least-busy</c>.</summary>
    public string Strategy { get; set; } = RouteStrategies.Priority;

    /// <summary>Aliases tried in order when every deployment of this route failed with a fallback trigger.</summary>
    public List<string> Fallbacks { get; set; } = [];

    public string? Description { get; set; }

    public List<DeploymentOptions> Deployments { get; set; } = [];
}

public sealed class DeploymentOptions
{
    [Required]
    public string Name { get; set; } = "";

    /// <summary><c>openai</c> (any OpenAI-compatible endpoint), <c>azure-openai</c>, <c>ollama</c> or <c>offline</c>.</summary>
    [Required]
    public string Provider { get; set; } = ModelProviders.Offline;

    public string? Endpoint { get; set; }

    /// <summary>The provider's model (or Azure deployment) name.</summary>
    [Required]
    public string Model { get; set; } = "";

    /// <summary>The provider key, for platform routes (tenant routes reference an encrypted credential instead).</summary>
    public string? ApiKey { get; set; }

    public int Priority { get; set; }

    public int Weight { get; set; } = 1;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    public int MaxRetries { get; set; }

    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(30);

    public int ContextWindow { get; set; } = 128_000;

    /// <summary>Micro-units of the platform currency per million input tokens.</summary>
    public long InputPriceMicros { get; set; }

    public long OutputPriceMicros { get; set; }

    public long CachedInputPriceMicros { get; set; }

    public bool Enabled { get; set; } = true;
}
