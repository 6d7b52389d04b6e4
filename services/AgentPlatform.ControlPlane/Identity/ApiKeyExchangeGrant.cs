using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=urn:ietf:params:oauth:grant-type:token-exchange</c> (RFC 8693) with an API key as
/// <c>subject_token</c> (<c>subject_token_type=urn:agentplatform:params:oauth:token-type:api-key</c>): a
/// short-lived access token standing for the key (<c>sub</c> <c>apikey:&lt;id&gt;</c>, <c>api_key_id</c>, the
/// key's roles), never outliving it. The gateway exchanges keys sent as <c>Authorization: Bearer apk_…</c> and
/// caches the result briefly. Possession of the key is the authority: no client authentication.
/// </summary>
public sealed class ApiKeyExchangeGrant(
    AgentPlatformDbContext db,
    TenantContext tenantContext,
    AccessTokenIssuer issuer,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    IdentityTelemetry telemetry)
{
    public const string SubjectPrefix = "apikey:";

    private static readonly OAuthError Invalid = OAuthError.InvalidGrant("The API key is invalid, expired or revoked.");

    public async Task<OAuthResult> HandleAsync(TokenRequest request, CancellationToken cancellationToken)
    {
        var subjectToken = request["subject_token"];
        var subjectTokenType = request["subject_token_type"];
        if (subjectToken is null || subjectTokenType is null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest("A token exchange needs 'subject_token' and 'subject_token_type'."));
        }

        if (subjectTokenType != TokenTypes.ApiKey)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest($"Only API keys can be exchanged (subject_token_type '{TokenTypes.ApiKey}')."));
        }

        if (request["requested_token_type"] is { } requested && requested != TokenTypes.AccessToken)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest($"Only access tokens can be requested (requested_token_type '{TokenTypes.AccessToken}')."));
        }

        if (request["actor_token"] is not null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest("Delegation (actor_token) is not supported."));
        }

        if (!Secrets.IsWellFormed(subjectToken, Secrets.ApiKeyPrefix))
        {
            return OAuthResult.Error(Invalid);
        }

        var hash = Secrets.Hash(subjectToken);
        var key = await db.ApiKeys.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]).AsNoTracking()
            .SingleOrDefaultAsync(k => k.KeyHash == hash, cancellationToken);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var remaining = key is null ? TimeSpan.Zero : key.ExpiresAt - now;
        if (key is null || key.RevokedAt is not null || remaining < TimeSpan.FromSeconds(1))
        {
            return OAuthResult.Error(Invalid);
        }

        tenantContext.SetTenant(key.TenantId);
        if (!await db.Tenants.AnyAsync(t => t.Id == key.TenantId && t.DisabledAt == null, cancellationToken))
        {
            return OAuthResult.Error(OAuthError.InvalidGrant("The API key's tenant is disabled."));
        }

        var settings = options.Value;
        var lifetime = remaining < settings.ApiKeyAccessTokenLifetime ? remaining : settings.ApiKeyAccessTokenLifetime;
        var accessToken = await issuer.IssueAsync(
            new AccessTokenSubject(SubjectPrefix + key.Id, key.TenantId, key.Roles) { ApiKeyId = key.Id.ToString(), KeyOwner = key.CreatedBy },
            lifetime,
            cancellationToken);

        // Usage bookkeeping, not a state change worth an audit record: written at most once per resolution.
        var staleBefore = now - settings.ApiKeyLastUsedResolution;
        if (key.LastUsedAt is null || key.LastUsedAt < staleBefore)
        {
            await db.ApiKeys
                .Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt < staleBefore))
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        telemetry.TokenIssued(GrantTypes.TokenExchange);
        return OAuthResult.Token(new TokenResponse(accessToken.Token, accessToken.ExpiresIn) { IssuedTokenType = TokenTypes.AccessToken });
    }
}
