using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// The tenant's integrator credentials: API keys and OAuth clients. Secrets are shown once, in the creation
/// answer, and stored as SHA-256 only. A credential gets only roles its creator could give; another tenant's
/// credentials do not exist here (404).
/// </summary>
public static class CredentialsApi
{
    public static IEndpointRouteBuilder MapCredentialsApis(this IEndpointRouteBuilder endpoints)
    {
        var keys = endpoints.MapGroup("/api/api-keys").WithTags("API keys").RequirePermission(Permissions.CredentialsManage);
        keys.MapGet("/", ListApiKeysAsync);
        keys.MapGet("/{id:guid}", GetApiKeyAsync);
        keys.MapPost("/", CreateApiKeyAsync);
        keys.MapDelete("/{id:guid}", RevokeApiKeyAsync);

        var clients = endpoints.MapGroup("/api/clients").WithTags("OAuth clients").RequirePermission(Permissions.CredentialsManage);
        clients.MapGet("/", ListClientsAsync);
        clients.MapGet("/{id:guid}", GetClientAsync);
        clients.MapPost("/", CreateClientAsync);
        clients.MapDelete("/{id:guid}", RevokeClientAsync);
        return endpoints;
    }

    public static async Task<Ok<PagedResult<ApiKeyResponse>>> ListApiKeysAsync([AsParameters] PageQuery page, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        return TypedResults.Ok(await db.ApiKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id)
            .ToPagedResultAsync(page, ApiKeyResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> GetApiKeyAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == id, cancellationToken) is { } key
            ? TypedResults.Ok(ApiKeyResponse.From(key))
            : Problems.NotFound("The API key");

    public static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem, ProblemHttpResult>> CreateApiKeyAsync(
        CreateApiKeyRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        IOptions<TokenServiceOptions> options,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (UnknownRole(request.Roles) is { } invalid)
        {
            return invalid;
        }

        if (!RolePermissions.MayAssign(context.User.GetRoles(), request.Roles))
        {
            return Problems.Forbidden("You can only give roles whose permissions you hold yourself.");
        }

        var now = Microseconds(timeProvider.GetUtcNow().UtcDateTime);
        var expiresAt = Microseconds(request.ExpiresAt!.Value.UtcDateTime);
        if (expiresAt <= now.AddMinutes(1))
        {
            return Problems.Invalid(nameof(request.ExpiresAt), "The expiry must be in the future.");
        }

        var maxLifetime = options.Value.MaxApiKeyLifetime;
        if (expiresAt > now + maxLifetime)
        {
            return Problems.Invalid(nameof(request.ExpiresAt), $"An API key may be valid for at most {maxLifetime.TotalDays:0} days.");
        }

        var value = Secrets.Generate(Secrets.ApiKeyPrefix);
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(now),
            TenantId = context.User.GetTenantId()!,
            Name = request.Name.Trim(),
            Prefix = value[..Secrets.DisplayPrefixLength],
            KeyHash = Secrets.Hash(value),
            Roles = [.. request.Roles.Distinct(StringComparer.Ordinal)],
            CreatedBy = context.User.GetSubject()!,
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.ApiKeys.Add(key);
        await auditTrail.SaveChangesAsync(new AuditEntry("api-key.created", "api-key", key.Id.ToString()) { After = Audited(key) }, cancellationToken);
        return TypedResults.Created(
            $"/api/api-keys/{key.Id}",
            new CreatedApiKeyResponse(key.Id, key.Name, key.Prefix, key.Roles, key.CreatedAt, key.ExpiresAt, value));
    }

    /// <summary>Revokes the key. The gateway may keep accepting it for as long as it caches an exchange (a minute by default).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKeyAsync(
        Guid id, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound("The API key");
        }

        if (key.RevokedAt is null)
        {
            var before = Audited(key);
            key.RevokedAt = Microseconds(timeProvider.GetUtcNow().UtcDateTime);
            await auditTrail.SaveChangesAsync(new AuditEntry("api-key.revoked", "api-key", key.Id.ToString()) { Before = before, After = Audited(key) }, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    public static async Task<Ok<PagedResult<ClientResponse>>> ListClientsAsync([AsParameters] PageQuery page, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        return TypedResults.Ok(await db.OAuthClients.AsNoTracking().OrderByDescending(c => c.CreatedAt).ThenBy(c => c.Id)
            .ToPagedResultAsync(page, ClientResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<ClientResponse>, ProblemHttpResult>> GetClientAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.OAuthClients.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } client
            ? TypedResults.Ok(ClientResponse.From(client))
            : Problems.NotFound("The client");

    public static async Task<Results<Created<CreatedClientResponse>, ValidationProblem, ProblemHttpResult>> CreateClientAsync(
        CreateClientRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (UnknownRole(request.Roles) is { } invalid)
        {
            return invalid;
        }

        if (!RolePermissions.MayAssign(context.User.GetRoles(), request.Roles))
        {
            return Problems.Forbidden("You can only give roles whose permissions you hold yourself.");
        }

        var now = Microseconds(timeProvider.GetUtcNow().UtcDateTime);
        var secret = Secrets.Generate(Secrets.ClientSecretPrefix);
        var client = new OAuthClient
        {
            Id = Guid.CreateVersion7(now),
            TenantId = context.User.GetTenantId()!,
            ClientId = Secrets.GenerateId(Secrets.ClientIdPrefix),
            Name = request.Name.Trim(),
            SecretHash = Secrets.Hash(secret),
            Roles = [.. request.Roles.Distinct(StringComparer.Ordinal)],
            CreatedBy = context.User.GetSubject()!,
            CreatedAt = now,
        };
        db.OAuthClients.Add(client);
        await auditTrail.SaveChangesAsync(new AuditEntry("client.created", "client", client.ClientId) { After = Audited(client) }, cancellationToken);
        return TypedResults.Created(
            $"/api/clients/{client.Id}",
            new CreatedClientResponse(client.Id, client.ClientId, client.Name, client.Roles, client.CreatedAt, secret));
    }

    /// <summary>Revokes the client: it gets no new tokens; tokens it holds expire within their lifetime.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeClientAsync(
        Guid id, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var client = await db.OAuthClients.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (client is null)
        {
            return Problems.NotFound("The client");
        }

        if (client.RevokedAt is null)
        {
            var before = Audited(client);
            client.RevokedAt = Microseconds(timeProvider.GetUtcNow().UtcDateTime);
            await auditTrail.SaveChangesAsync(new AuditEntry("client.revoked", "client", client.ClientId) { Before = before, After = Audited(client) }, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    /// <summary>Unknown roles are invalid input (400); known ones the caller may not give are forbidden (403).</summary>
    private static ValidationProblem? UnknownRole(IReadOnlyList<string> roles) =>
        roles.FirstOrDefault(role => !Roles.IsKnown(role)) is { } unknown
            ? Problems.Invalid("Roles", $"'{unknown}' is not a role. Roles: {string.Join(", ", Roles.All)}.")
            : null;

    // What the audit digests cover: the credential's state, never its secret or hash.
    private static object Audited(ApiKey key) =>
        new { key.Name, key.Prefix, Roles = key.Roles.Order(StringComparer.Ordinal).ToList(), key.ExpiresAt, key.RevokedAt };

    private static object Audited(OAuthClient client) =>
        new { client.ClientId, client.Name, Roles = client.Roles.Order(StringComparer.Ordinal).ToList(), client.RevokedAt };

    // PostgreSQL keeps microseconds: the answer shows what is stored.
    private static DateTime Microseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
}
