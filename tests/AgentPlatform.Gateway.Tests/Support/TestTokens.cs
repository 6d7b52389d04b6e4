using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using AgentPlatform.Domain.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.Gateway.Tests.Support;

/// <summary>
/// Signs access tokens the way the control plane does (RS256, <c>typ: at+jwt</c>, issuer, audience) with a
/// test key that <see cref="TestBackend"/> publishes as its JWKS.
/// </summary>
public sealed class TestTokens : IDisposable
{
    public const string Issuer = "http://gateway.test";
    public const string KeyId = "test-signing-key";

    private readonly RSA key = RSA.Create(2048);
    private readonly RSA strangerKey = RSA.Create(2048);

    public string JwksJson
    {
        get
        {
            var parameters = key.ExportParameters(includePrivateParameters: false);
            return JsonSerializer.Serialize(new
            {
                keys = new[]
                {
                    new
                    {
                        kty = "RSA",
                        use = "sig",
                        alg = "RS256",
                        kid = KeyId,
                        n = Base64UrlEncoder.Encode(parameters.Modulus),
                        e = Base64UrlEncoder.Encode(parameters.Exponent),
                    },
                },
            });
        }
    }

    /// <summary>A valid access token of <paramref name="subject"/> in <paramref name="tenantId"/>.</summary>
    public string Issue(
        string tenantId,
        string subject,
        string? apiKeyId = null,
        TimeSpan? lifetime = null,
        string issuer = Issuer,
        bool signedByStranger = false)
    {
        var now = DateTime.UtcNow;
        var claims = new List<Claim>
        {
            new(PlatformClaims.Subject, subject),
            new(PlatformClaims.TenantId, tenantId),
            new(PlatformClaims.Roles, Roles.Developer),
            new(PlatformClaims.TokenId, Guid.NewGuid().ToString("N")),
        };
        if (apiKeyId is not null)
        {
            claims.Add(new Claim(PlatformClaims.ApiKeyId, apiKeyId));
        }

        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = PlatformClaims.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = expires < now ? expires - TimeSpan.FromMinutes(10) : now,
            NotBefore = expires < now ? expires - TimeSpan.FromMinutes(10) : now - TimeSpan.FromMinutes(1),
            Expires = expires,
            TokenType = PlatformClaims.AccessTokenType,
            SigningCredentials = new SigningCredentials(
                new RsaSecurityKey(signedByStranger ? strangerKey : key) { KeyId = KeyId },
                SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>The claims of <paramref name="token"/>, read without validation.</summary>
    public static JsonWebToken Read(string token) => new(token);

    public void Dispose()
    {
        key.Dispose();
        strangerKey.Dispose();
    }
}
