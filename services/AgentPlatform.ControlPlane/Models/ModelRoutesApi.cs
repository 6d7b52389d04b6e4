using AgentPlatform.Domain.Models;
using System.Text.RegularExpressions;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace AgentPlatform.ControlPlane.Models;

/// <summary>
/// Tenant admins manage their model routes, deployments and provider credentials. A route and its deployments
/// are one document: written whole, guarded by its ETag (<c>If-Match</c>) so concurrent edits cannot silently
/// overwrite each other. The model gateway picks changes up within its route cache duration, without a restart.
/// </summary>
public static partial class ModelRoutesApi
{
    public const string AliasPattern = "^[A-Za-z0-9][A-Za-z0-9._:/@-]*$";

    private const int MaxDeployments = 20;
    private const int MaxFallbacks = 10;

    public static IEndpointRouteBuilder MapModelRoutesApi(this IEndpointRouteBuilder endpoints)
    {
        var routes = endpoints.MapGroup("/api/model-routes").WithTags("Model routes").RequirePermission(Permissions.ModelsManage);
        routes.MapGet("/", ListAsync);
        routes.MapGet("/{id:guid}", GetAsync);
        routes.MapPost("/", CreateAsync);
        routes.MapPut("/{id:guid}", UpdateAsync);
        routes.MapDelete("/{id:guid}", DeleteAsync);
        return endpoints.MapProviderCredentialsApi();
    }

    public static async Task<Ok<PagedResult<ModelRouteResponse>>> ListAsync(
        [AsParameters] PageQuery page, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await db.ModelRoutes.AsNoTracking().Include(r => r.Deployments).OrderBy(r => r.Alias)
            .ToPagedResultAsync(page, ModelRouteResponse.From, cancellationToken));

    public static async Task<Results<Ok<ModelRouteResponse>, ProblemHttpResult>> GetAsync(
        Guid id, HttpContext context, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var route = await db.ModelRoutes.AsNoTracking().Include(r => r.Deployments).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (route is null)
        {
            return Problems.NotFound("The model route");
        }

        SetETag(context, route);
        return TypedResults.Ok(ModelRouteResponse.From(route));
    }

    public static async Task<Results<Created<ModelRouteResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ModelRouteRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (await ValidateAsync(request, routeId: null, db, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        var alias = request.Alias.Trim();
        if (await db.ModelRoutes.AnyAsync(r => r.Alias == alias, cancellationToken))
        {
            return Problems.Conflict($"A model route with alias '{alias}' exists already.");
        }

        var now = timeProvider.GetUtcNow();
        var route = new ModelRoute
        {
            Id = Guid.CreateVersion7(now),
            TenantId = context.User.GetTenantId()!,
            Alias = alias,
            Strategy = request.Strategy,
            CreatedAt = now.UtcDateTime,
        };
        Apply(request, route, now);
        db.ModelRoutes.Add(route);
        try
        {
            await auditTrail.SaveChangesAsync(
                new AuditEntry("model-route.created", "model-route", route.Id.ToString()) { After = Audited(route) }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent request took the alias between the check and the insert (the unique index caught it).
            if (await db.ModelRoutes.AsNoTracking().AnyAsync(r => r.Alias == alias && r.Id != route.Id, cancellationToken))
            {
                return Problems.Conflict($"A model route with alias '{alias}' exists already.");
            }

            throw;
        }

        SetETag(context, route);
        return TypedResults.Created($"/api/model-routes/{route.Id}", ModelRouteResponse.From(route));
    }

    public static async Task<Results<Ok<ModelRouteResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id,
        ModelRouteRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var route = await db.ModelRoutes.Include(r => r.Deployments).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (route is null)
        {
            return Problems.NotFound("The model route");
        }

        if (CheckIfMatch(context, route) is { } precondition)
        {
            return precondition;
        }

        if (await ValidateAsync(request, route.Id, db, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        var alias = request.Alias.Trim();
        if (await db.ModelRoutes.AnyAsync(r => r.Alias == alias && r.Id != id, cancellationToken))
        {
            return Problems.Conflict($"A model route with alias '{alias}' exists already.");
        }

        var before = Audited(route);
        route.Alias = alias;
        Apply(request, route, timeProvider.GetUtcNow());
        await auditTrail.SaveChangesAsync(
            new AuditEntry("model-route.updated", "model-route", route.Id.ToString()) { Before = before, After = Audited(route) }, cancellationToken);
        SetETag(context, route);
        return TypedResults.Ok(ModelRouteResponse.From(route));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, HttpContext context, AgentPlatformDbContext db, AuditTrail auditTrail, CancellationToken cancellationToken)
    {
        var route = await db.ModelRoutes.Include(r => r.Deployments).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
        if (route is null)
        {
            return Problems.NotFound("The model route");
        }

        if (CheckIfMatch(context, route) is { } precondition)
        {
            return precondition;
        }

        db.ModelRoutes.Remove(route);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("model-route.deleted", "model-route", route.Id.ToString()) { Before = Audited(route) }, cancellationToken);
        return TypedResults.NoContent();
    }

    private static void SetETag(HttpContext context, ModelRoute route) =>
        context.Response.Headers.ETag = ETagOf(route);

    private static string ETagOf(ModelRoute route) => $"\"{route.Version}\"";

    /// <summary>
    /// Writes need the ETag the client read (<c>If-Match</c>), so nobody overwrites a change they have not seen.
    /// The version read is also the concurrency token of the save, which catches a change between this check and
    /// the write (409 from <see cref="ConcurrencyConflictHandler"/>).
    /// </summary>
    private static ProblemHttpResult? CheckIfMatch(HttpContext context, ModelRoute route)
    {
        var ifMatch = context.Request.GetTypedHeaders().IfMatch;
        if (ifMatch.Count == 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status428PreconditionRequired,
                title: "Precondition required.",
                detail: "Send the route's ETag in If-Match (read it with GET), so you cannot overwrite a change you have not seen.");
        }

        if (!ifMatch.Any(tag => tag == EntityTagHeaderValue.Any || tag.Tag.Equals(ETagOf(route), StringComparison.Ordinal)))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status412PreconditionFailed,
                title: "Precondition failed.",
                detail: "The route changed since you read it (If-Match does not match its ETag). Read it again and retry.");
        }

        return null;
    }

    private static void Apply(ModelRouteRequest request, ModelRoute route, DateTimeOffset now)
    {
        route.Strategy = request.Strategy;
        route.Fallbacks = [.. Fallbacks(request)];
        route.Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim();
        route.UpdatedAt = now.UtcDateTime;
        route.Version = Guid.NewGuid();

        // Deployments keep their id while their name stays, so the gateway's health state for them carries over.
        var existing = route.Deployments.ToDictionary(d => d.Name, StringComparer.Ordinal);
        route.Deployments.RemoveAll(d => !request.Deployments.Any(r => r.Name.Trim() == d.Name));
        foreach (var source in request.Deployments)
        {
            var name = source.Name.Trim();
            if (!existing.TryGetValue(name, out var deployment))
            {
                // No id here: EF generates it, and so knows the deployment is new even on a route it already tracks.
                deployment = new ModelDeployment
                {
                    TenantId = route.TenantId,
                    RouteId = route.Id,
                    Name = name,
                    Provider = source.Provider,
                    Model = source.Model,
                };
                route.Deployments.Add(deployment);
            }

            deployment.Provider = source.Provider;
            deployment.Endpoint = string.IsNullOrWhiteSpace(source.Endpoint) ? null : source.Endpoint.Trim();
            deployment.Model = source.Model.Trim();
            deployment.CredentialId = source.CredentialId;
            deployment.Priority = source.Priority;
            deployment.Weight = source.Weight;
            deployment.Timeout = source.Timeout;
            deployment.MaxRetries = source.MaxRetries;
            deployment.Cooldown = source.Cooldown;
            deployment.ContextWindow = source.ContextWindow;
            deployment.InputPriceMicros = source.InputPriceMicros;
            deployment.OutputPriceMicros = source.OutputPriceMicros;
            deployment.CachedInputPriceMicros = source.CachedInputPriceMicros;
            deployment.Enabled = source.Enabled;
        }
    }

    private static List<string> Fallbacks(ModelRouteRequest request) =>
        [.. (request.Fallbacks ?? []).Select(f => f?.Trim() ?? "")];

    private static async Task<ValidationProblem?> ValidateAsync(ModelRouteRequest request, Guid? routeId, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var messages))
            {
                errors[field] = messages = [];
            }

            messages.Add(message);
        }

        var alias = request.Alias.Trim();
        if (!AliasRegex().IsMatch(alias))
        {
            Add("alias", "Use letters, digits and . _ : / @ -, starting with a letter or digit.");
        }

        if (!RouteStrategies.All.Contains(request.Strategy))
        {
            Add("strategy", $"The strategy is one of {string.Join(", ", RouteStrategies.All)}.");
        }

        var fallbacks = Fallbacks(request);
        if (fallbacks.Count > MaxFallbacks)
        {
            Add("fallbacks", $"A route has at most {MaxFallbacks} fallbacks.");
        }

        if (fallbacks.Any(f => !AliasRegex().IsMatch(f)))
        {
            Add("fallbacks", "Every fallback is a model alias.");
        }

        if (fallbacks.Contains(alias, StringComparer.Ordinal))
        {
            Add("fallbacks", "A route cannot fall back to itself.");
        }

        if (fallbacks.Distinct(StringComparer.Ordinal).Count() != fallbacks.Count)
        {
            Add("fallbacks", "A fallback is listed twice.");
        }

        if (request.Deployments.Count == 0)
        {
            Add("deployments", "A route needs at least one deployment.");
        }
        else if (request.Deployments.Count > MaxDeployments)
        {
            Add("deployments", $"A route has at most {MaxDeployments} deployments.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < request.Deployments.Count; i++)
        {
            var deployment = request.Deployments[i];
            var field = $"deployments[{i}]";
            if (!names.Add(deployment.Name.Trim()))
            {
                Add($"{field}.name", $"The deployment name '{deployment.Name.Trim()}' is used twice in this route.");
            }

            if (!ModelProviders.All.Contains(deployment.Provider))
            {
                Add($"{field}.provider", $"The provider is one of {string.Join(", ", ModelProviders.All)}.");
            }

            ValidateEndpoint(deployment, field, Add);
            if (deployment.Priority is < 0 or > ModelDeploymentLimits.MaxPriority)
            {
                Add($"{field}.priority", "The priority is between 0 and 1000 (lower is tried first).");
            }

            if (deployment.Weight is < 1 or > ModelDeploymentLimits.MaxWeight)
            {
                Add($"{field}.weight", "The weight is between 1 and 1000.");
            }

            if (deployment.Timeout <= TimeSpan.Zero || deployment.Timeout > ModelDeploymentLimits.MaxTimeout)
            {
                Add($"{field}.timeout", $"The timeout is positive and at most {ModelDeploymentLimits.MaxTimeout}.");
            }

            if (deployment.Cooldown <= TimeSpan.Zero || deployment.Cooldown > ModelDeploymentLimits.MaxCooldown)
            {
                Add($"{field}.cooldown", $"The cooldown is positive and at most {ModelDeploymentLimits.MaxCooldown}.");
            }

            if (deployment.MaxRetries is < 0 or > ModelDeploymentLimits.MaxRetries)
            {
                Add($"{field}.maxRetries", "Retries are between 0 and 5.");
            }

            if (deployment.ContextWindow is < 1 or > ModelDeploymentLimits.MaxContextWindow)
            {
                Add($"{field}.contextWindow", "The context window is a positive number of tokens.");
            }

            if (deployment.InputPriceMicros < 0 || deployment.OutputPriceMicros < 0 || deployment.CachedInputPriceMicros < 0)
            {
                Add($"{field}.prices", "Prices are zero or more.");
            }
        }

        var credentialIds = request.Deployments.Where(d => d.CredentialId is not null).Select(d => d.CredentialId!.Value).Distinct().ToList();
        if (credentialIds.Count > 0)
        {
            var known = await db.ProviderCredentials.AsNoTracking().Where(c => credentialIds.Contains(c.Id)).Select(c => c.Id).ToListAsync(cancellationToken);
            for (var i = 0; i < request.Deployments.Count; i++)
            {
                if (request.Deployments[i].CredentialId is { } credentialId && !known.Contains(credentialId))
                {
                    Add($"deployments[{i}].credentialId", $"There is no provider credential '{credentialId}' in this tenant.");
                }
            }
        }

        if (errors.Count == 0 && await FindCycleAsync(alias, fallbacks, routeId, db, cancellationToken) is { } cycle)
        {
            Add("fallbacks", $"These fallbacks would make a cycle: {string.Join(" → ", cycle)}.");
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }

    private static void ValidateEndpoint(ModelDeploymentRequest deployment, string field, Action<string, string> add)
    {
        var endpoint = deployment.Endpoint?.Trim();
        if (string.IsNullOrEmpty(endpoint))
        {
            if (deployment.Provider is ModelProviders.AzureOpenAi or ModelProviders.Ollama)
            {
                add($"{field}.endpoint", $"A {deployment.Provider} deployment needs its endpoint (an absolute http or https URL).");
            }

            return;
        }

        if (deployment.Provider == ModelProviders.Offline)
        {
            add($"{field}.endpoint", "An offline deployment calls no endpoint; leave it empty.");
        }
        else if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            add($"{field}.endpoint", "The endpoint is an absolute http or https URL.");
        }
    }

    /// <summary>
    /// The tenant's routes without cycles stay without cycles: the only new edges are this route's fallbacks, so a
    /// cycle would have to lead from one of them back to this alias. Aliases without a tenant route (platform
    /// defaults) end a path.
    /// </summary>
    private static async Task<IReadOnlyList<string>?> FindCycleAsync(
        string alias, List<string> fallbacks, Guid? routeId, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        if (fallbacks.Count == 0)
        {
            return null;
        }

        var others = await db.ModelRoutes.AsNoTracking().Where(r => r.Id != routeId).Select(r => new { r.Alias, r.Fallbacks }).ToListAsync(cancellationToken);
        var graph = others.ToDictionary(r => r.Alias, r => (IReadOnlyList<string>)r.Fallbacks, StringComparer.Ordinal);
        graph[alias] = fallbacks;

        var visited = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string> { alias };
        return Visit(alias) ? path : null;

        bool Visit(string current)
        {
            foreach (var next in graph.GetValueOrDefault(current) ?? [])
            {
                path.Add(next);
                if (next == alias || (visited.Add(next) && Visit(next)))
                {
                    return true;
                }

                path.RemoveAt(path.Count - 1);
            }

            return false;
        }
    }

    // What the audit digests cover: the route and its deployments as configured.
    private static object Audited(ModelRoute route) => new
    {
        route.Alias,
        route.Strategy,
        route.Fallbacks,
        route.Description,
        Deployments = route.Deployments.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => new
        {
            d.Name, d.Provider, d.Endpoint, d.Model, d.CredentialId, d.Priority, d.Weight, d.Timeout, d.MaxRetries, d.Cooldown,
            d.ContextWindow, d.InputPriceMicros, d.OutputPriceMicros, d.CachedInputPriceMicros, d.Enabled,
        }).ToList(),
    };

    [GeneratedRegex(AliasPattern)]
    private static partial Regex AliasRegex();
}
