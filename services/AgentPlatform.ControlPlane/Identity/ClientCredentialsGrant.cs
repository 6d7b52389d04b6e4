using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=client_credentials</c>: an integrator's confidential client (HTTP Basic or form credentials)
/// gets an access token for its tenant with the client's roles; <c>sub</c> and <c>client_id</c> are the client
/// id. No refresh token: the client simply asks again.
/// </summary>
public sealed class ClientCredentialsGrant(
    AgentPlatformDbContext db,
    AccessTokenIssuer issuer,
    IOptions<TokenServiceOptions> options,
    IdentityTelemetry telemetry)
{
    public async Task<OAuthResult> HandleAsync(TokenRequest request, CancellationToken cancellationToken)
    {
        var (clientId, clientSecret, usedBasic, error) = request.ReadClientCredentials();
        if (error is not null)
        {
            return OAuthResult.Error(error, basicChallenge: usedBasic && error.Error == "invalid_client");
        }

        var refused = OAuthResult.Error(OAuthError.InvalidClient("The client is unknown, revoked or its secret is wrong."), usedBasic);
        if (!Secrets.IsWellFormed(clientId, Secrets.ClientIdPrefix) || !Secrets.IsWellFormed(clientSecret, Secrets.ClientSecretPrefix))
        {
            return refused;
        }

        var client = await db.OAuthClients.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]).AsNoTracking()
            .SingleOrDefaultAsync(c => c.ClientId == clientId, cancellationToken);
        if (client is null || client.RevokedAt is not null || !Secrets.HashesEqual(client.SecretHash, Secrets.Hash(clientSecret!)))
        {
            return refused;
        }

        if (!await db.Tenants.AnyAsync(t => t.Id == client.TenantId && t.DisabledAt == null, cancellationToken))
        {
            return OAuthResult.Error(OAuthError.InvalidClient("The client's tenant is disabled."), usedBasic);
        }

        var accessToken = await issuer.IssueAsync(
            new AccessTokenSubject(client.ClientId, client.TenantId, client.Roles) { ClientId = client.ClientId },
            options.Value.AccessTokenLifetime,
            cancellationToken);
        telemetry.TokenIssued(GrantTypes.ClientCredentials);
        return OAuthResult.Token(new TokenResponse(accessToken.Token, accessToken.ExpiresIn));
    }
}
