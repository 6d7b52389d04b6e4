using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=client_credentials</c>: an integrator's confidential client (HTTP Basic or form credentials)
/// gets an access token for its tenant with the client's roles; <c>sub</c> and <c>client_id</c> are the client
/// id. No refresh token: the client simply asks again. A platform service client's request goes to
/// <see cref="ServiceTokenGrant"/>.
/// </summary>
public sealed class ClientCredentialsGrant(
    AgentPlatformDbContext db,
    AccessTokenIssuer issuer,
    ServiceTokenGrant serviceTokens,
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

        if (serviceTokens.IsServiceClient(clientId) && clientSecret is not null)
        {
            return await serviceTokens.HandleAsync(request, clientId, clientSecret, usedBasic, cancellationToken);
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

        // A tenant's client acts for its own tenant and nobody else: parameters that would say otherwise are refused,
        // not silently ignored.
        if (request[ServiceTokenGrant.TenantIdParameter] is not null || request[ServiceTokenGrant.OnBehalfOfParameter] is not null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest(
                $"'{ServiceTokenGrant.TenantIdParameter}' and '{ServiceTokenGrant.OnBehalfOfParameter}' are for platform service clients only."));
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
