using System.Security.Cryptography;
using AgentPlatform.Infrastructure.Caching;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Secrets;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.ModelGateway.Governance;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>
/// The routes a tenant can call: the platform's routes from configuration, replaced alias by alias by the
/// tenant's own routes from the database. A tenant's set is served for at most
/// <see cref="ModelGatewayOptions.RouteCacheDuration"/> and reloaded in the background before then
/// (<see cref="RefreshAheadCache{TKey, TValue}"/>), so an admin change takes effect within seconds and without a
/// restart, while calls never wait for the database once the tenant's routes are loaded.
/// </summary>
public sealed partial class ModelRouteCatalog
{
    private readonly IOptionsMonitor<ModelGatewayOptions> options;
    private readonly IServiceScopeFactory scopes;
    private readonly SecretProtector secrets;
    private readonly ILogger<ModelRouteCatalog> logger;
    private readonly RefreshAheadCache<string, IReadOnlyDictionary<string, ModelRouteDefinition>> cache;

    public ModelRouteCatalog(
        IOptionsMonitor<ModelGatewayOptions> options,
        IServiceScopeFactory scopes,
        SecretProtector secrets,
        TimeProvider timeProvider,
        ILogger<ModelRouteCatalog> logger)
    {
        this.options = options;
        this.scopes = scopes;
        this.secrets = secrets;
        this.logger = logger;
        cache = new(
            LoadAsync,
            () => options.CurrentValue.RouteCacheDuration,
            timeProvider,
            // The database is unreachable: keep serving the routes last seen rather than failing every call.
            keepStale: (tenantId, exception) => LogServingStaleRoutes(logger, exception, tenantId),
            refreshFailed: (tenantId, exception) => LogRefreshFailed(logger, exception, tenantId),
            comparer: StringComparer.Ordinal);
    }

    public ValueTask<IReadOnlyDictionary<string, ModelRouteDefinition>> GetRoutesAsync(string tenantId, CancellationToken cancellationToken) =>
        cache.GetAsync(tenantId, cancellationToken);

    private async Task<IReadOnlyDictionary<string, ModelRouteDefinition>> LoadAsync(string tenantId)
    {
        // Shared by concurrent callers (RefreshAheadCache): not bound to any one caller's cancellation.
        var cancellationToken = CancellationToken.None;
        var routes = new Dictionary<string, ModelRouteDefinition>(StringComparer.Ordinal);
        foreach (var (alias, route) in options.CurrentValue.Routes)
        {
            routes[alias] = new ModelRouteDefinition(
                alias,
                route.Strategy,
                route.Fallbacks,
                [.. route.Deployments.Select(d => new ModelDeploymentDefinition(
                    d.Name, d.Provider, EndpointOf(d.Endpoint), d.Model, d.ApiKey, d.Priority, d.Weight, d.Timeout, d.MaxRetries,
                    d.Cooldown, d.ContextWindow, new ModelPrice(d.InputPriceMicros, d.OutputPriceMicros, d.CachedInputPriceMicros), d.Enabled))],
                IsTenantRoute: false);
        }

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        var database = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var tenantRoutes = await database.ModelRoutes.AsNoTracking().Include(r => r.Deployments).ToListAsync(cancellationToken);
        if (tenantRoutes.Count == 0)
        {
            return routes;
        }

        var credentialIds = tenantRoutes.SelectMany(r => r.Deployments).Select(d => d.CredentialId).OfType<Guid>().Distinct().ToList();
        var credentials = await database.ProviderCredentials.AsNoTracking()
            .Where(c => credentialIds.Contains(c.Id))
            .ToDictionaryAsync(c => c.Id, cancellationToken);
        foreach (var route in tenantRoutes)
        {
            routes[route.Alias] = new ModelRouteDefinition(
                route.Alias,
                route.Strategy,
                route.Fallbacks,
                [.. route.Deployments.Select(d => Define(route, d, credentials))],
                IsTenantRoute: true);
        }

        return routes;
    }

    private ModelDeploymentDefinition Define(ModelRoute route, ModelDeployment deployment, Dictionary<Guid, ProviderCredential> credentials)
    {
        string? apiKey = null;
        var usable = deployment.Enabled;
        if (deployment.CredentialId is { } credentialId)
        {
            if (!credentials.TryGetValue(credentialId, out var credential))
            {
                LogCredentialMissing(logger, route.TenantId, route.Alias, deployment.Name, credentialId);
                usable = false;
            }
            else
            {
                try
                {
                    apiKey = secrets.UnprotectString(SecretPurposes.ProviderCredential, credential.Id.ToString(), credential.EncryptedSecret);
                }
                catch (CryptographicException exception)
                {
                    // A key-encryption key mix-up must not take the tenant's other deployments down with it.
                    LogCredentialUnreadable(logger, exception, route.TenantId, route.Alias, deployment.Name, credentialId);
                    usable = false;
                }
            }
        }

        return new ModelDeploymentDefinition(
            deployment.Name, deployment.Provider, EndpointOf(deployment.Endpoint), deployment.Model, apiKey, deployment.Priority,
            deployment.Weight, deployment.Timeout, deployment.MaxRetries, deployment.Cooldown, deployment.ContextWindow,
            new ModelPrice(deployment.InputPriceMicros, deployment.OutputPriceMicros, deployment.CachedInputPriceMicros), usable,
            TenantConfigured: true);
    }

    private static Uri? EndpointOf(string? endpoint) => string.IsNullOrWhiteSpace(endpoint) ? null : new Uri(endpoint, UriKind.Absolute);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId}: deployment {Deployment} of route {Route} references credential {CredentialId}, which does not exist; the deployment is skipped.")]
    private static partial void LogCredentialMissing(ILogger logger, string tenantId, string route, string deployment, Guid credentialId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId}: the credential {CredentialId} of deployment {Deployment} of route {Route} cannot be decrypted with the configured Secrets:KeyEncryptionKey; the deployment is skipped.")]
    private static partial void LogCredentialUnreadable(ILogger logger, Exception exception, string tenantId, string route, string deployment, Guid credentialId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId}: the model routes cannot be loaded; serving the routes last loaded.")]
    private static partial void LogServingStaleRoutes(ILogger logger, Exception exception, string tenantId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId}: the model routes could not be reloaded ahead of time; the routes in use are served until they expire.")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, string tenantId);

}
