using AgentPlatform.Domain.Models;
using AgentPlatform.ModelGateway.Governance;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>A route as the data plane uses it: platform defaults and tenant routes look the same here.</summary>
public sealed record ModelRouteDefinition(string Alias, string Strategy, IReadOnlyList<string> Fallbacks, IReadOnlyList<ModelDeploymentDefinition> Deployments, bool IsTenantRoute);

/// <summary>
/// One deployment with its secret already decrypted. <see cref="Key"/> identifies the concrete upstream model
/// (provider, endpoint, model, credential, and whether it is reached as a tenant's endpoint) so a fallback can tell
/// it already failed, whichever route lists it. <see cref="TenantConfigured"/>: a tenant admin chose the endpoint,
/// so it may reach only the addresses tenant endpoints may (<see cref="TenantEndpointOptions"/>).
/// </summary>
public sealed record ModelDeploymentDefinition(
    string Name,
    string Provider,
    Uri? Endpoint,
    string Model,
    string? ApiKey,
    int Priority,
    int Weight,
    TimeSpan Timeout,
    int MaxRetries,
    TimeSpan Cooldown,
    int ContextWindow,
    ModelPrice Price,
    bool Enabled,
    bool TenantConfigured = false)
{
    public string Key { get; } = $"{(TenantConfigured ? "tenant:" : "")}{Provider}|{Endpoint}|{Model}|{(ApiKey is null ? "" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ApiKey)))[..16])}";

    public bool IsOffline => Provider == ModelProviders.Offline;
}
