using AgentPlatform.Domain.Identity;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>Whom an access token stands for.</summary>
public sealed record AccessTokenSubject(string Subject, string TenantId, IReadOnlyList<string> Roles)
{
    public string? ClientId { get; init; }

    public string? ApiKeyId { get; init; }

    /// <summary>For an API key: the subject that created it.</summary>
    public string? KeyOwner { get; init; }

    public string? Name { get; init; }
}

public sealed record IssuedAccessToken(string Token, int ExpiresIn);

/// <summary>
/// Creates the platform's access tokens (RFC 9068 profile): a JWT signed RS256 with the ring's active key, header
/// <c>typ: at+jwt</c> and <c>kid</c>; claims <c>iss</c>, <c>aud</c>, <c>sub</c>, <c>tenant_id</c>, <c>roles</c>
/// (always an array), <c>jti</c>, <c>iat</c>, <c>nbf</c>, <c>exp</c>, and <c>client_id</c> / <c>api_key_id</c> /
/// <c>key_owner</c> / <c>name</c> where they apply.
/// </summary>
public sealed class AccessTokenIssuer(SigningKeyRing ring, IOptions<PlatformAuthenticationOptions> authentication, TimeProvider timeProvider)
{
    private readonly JsonWebTokenHandler handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<IssuedAccessToken> IssueAsync(AccessTokenSubject subject, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var credentials = await ring.GetSigningCredentialsAsync(cancellationToken);

        // NumericDate has whole seconds; truncating keeps expires_in and exp - iat exactly equal to the lifetime.
        var now = timeProvider.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var seconds = (int)lifetime.TotalSeconds;

        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [PlatformClaims.Subject] = subject.Subject,
            [PlatformClaims.TenantId] = subject.TenantId,
            [PlatformClaims.Roles] = subject.Roles.ToArray(),
            [PlatformClaims.TokenId] = Guid.NewGuid().ToString("N"),
        };
        if (subject.ClientId is not null)
        {
            claims[PlatformClaims.ClientId] = subject.ClientId;
        }

        if (subject.ApiKeyId is not null)
        {
            claims[PlatformClaims.ApiKeyId] = subject.ApiKeyId;
        }

        if (subject.KeyOwner is not null)
        {
            claims[PlatformClaims.KeyOwner] = subject.KeyOwner;
        }

        if (subject.Name is not null)
        {
            claims[PlatformClaims.Name] = subject.Name;
        }

        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = authentication.Value.Issuer,
            Audience = authentication.Value.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(seconds),
            SigningCredentials = credentials,
            TokenType = PlatformClaims.AccessTokenType,
        });
        return new IssuedAccessToken(token, seconds);
    }
}
