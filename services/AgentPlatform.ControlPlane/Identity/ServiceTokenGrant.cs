using System.Diagnostics.CodeAnalysis;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=client_credentials</c> from a platform service client (<see cref="TokenServiceOptions.ServiceClients"/>,
/// configured, not a tenant's <c>cli_…</c> client): an access token for the tenant named by <c>tenant_id</c>,
/// optionally on behalf of one of its enabled users (<c>on_behalf_of</c>, the user's id). The token holds only
/// the role <see cref="Roles.PlatformService"/>; <c>sub</c> is <c>service:&lt;client id&gt;</c>, <c>client_id</c>
/// the client id, and <c>key_owner</c> the user whose model budgets apply. No refresh token: the service asks
/// again. See docs/decisions/0007-service-tokens.md.
/// </summary>
public sealed class ServiceTokenGrant(
    AgentPlatformDbContext db,
    TenantContext tenantContext,
    AccessTokenIssuer issuer,
    IOptions<TokenServiceOptions> options,
    IdentityTelemetry telemetry)
{
    public const string SubjectPrefix = "service:";
    public const string TenantIdParameter = "tenant_id";
    public const string OnBehalfOfParameter = "on_behalf_of";

    public bool IsServiceClient([NotNullWhen(true)] string? clientId) => clientId is not null && options.Value.ServiceClients.ContainsKey(clientId);

    /// <summary>Handles the request of <paramref name="clientId"/>, a configured service client (<see cref="IsServiceClient"/>).</summary>
    public async Task<OAuthResult> HandleAsync(TokenRequest request, string clientId, string clientSecret, bool usedBasic, CancellationToken cancellationToken)
    {
        // Both sides hashed first: the comparison takes the same time whatever the presented secret's length.
        var configured = options.Value.ServiceClients[clientId];
        if (!Secrets.HashesEqual(Secrets.Hash(configured.Secret), Secrets.Hash(clientSecret)))
        {
            return OAuthResult.Error(OAuthError.InvalidClient("The client is unknown, revoked or its secret is wrong."), usedBasic);
        }

        var tenantId = request[TenantIdParameter];
        if (tenantId is null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest($"A platform service client must name the tenant ('{TenantIdParameter}')."));
        }

        if (!Domain.Tenancy.TenantId.IsValid(tenantId))
        {
            return OAuthResult.Error(OAuthError.InvalidRequest($"'{TenantIdParameter}' is not a valid tenant id."));
        }

        Guid? userId = null;
        if (request[OnBehalfOfParameter] is { } onBehalfOf)
        {
            if (!Guid.TryParse(onBehalfOf, out var parsed))
            {
                return OAuthResult.Error(OAuthError.InvalidRequest($"'{OnBehalfOfParameter}' must be a user id."));
            }

            userId = parsed;
        }

        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId && t.DisabledAt == null, cancellationToken))
        {
            return OAuthResult.Error(OAuthError.InvalidGrant($"The tenant '{tenantId}' is unknown or disabled."));
        }

        // The tenant filter applies from here: a user of another tenant is not found.
        tenantContext.SetTenant(tenantId);
        if (userId is { } id && !await db.Users.AnyAsync(u => u.Id == id && u.DisabledAt == null, cancellationToken))
        {
            return OAuthResult.Error(OAuthError.InvalidGrant($"'{OnBehalfOfParameter}' is not an enabled user of tenant '{tenantId}'."));
        }

        var accessToken = await issuer.IssueAsync(
            new AccessTokenSubject(SubjectPrefix + clientId, tenantId, [Roles.PlatformService])
            {
                ClientId = clientId,
                KeyOwner = userId?.ToString(),
            },
            options.Value.AccessTokenLifetime,
            cancellationToken);
        telemetry.ServiceTokenIssued(clientId);
        return OAuthResult.Token(new TokenResponse(accessToken.Token, accessToken.ExpiresIn));
    }
}
