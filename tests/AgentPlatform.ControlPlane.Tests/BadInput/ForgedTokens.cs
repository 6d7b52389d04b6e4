using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.Domain.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Tests.BadInput;

/// <summary>
/// Tokens an attacker (or a broken client) might present. Those that need a trusted signature are signed with
/// the platform's real active key, so only the one property under test is wrong.
/// </summary>
public static class ForgedTokens
{
    public static IReadOnlyList<string> Kinds { get; } =
    [
        "alg-none", "hs256-with-public-key", "expired", "not-yet-valid", "wrong-issuer", "wrong-audience",
        "unknown-kid", "tampered-payload", "wrong-typ", "refresh-token", "garbage",
    ];

    public static TheoryData<string> Theory => [.. Kinds];

    /// <summary>A token of <paramref name="kind"/> claiming tenant-admin of <c>default</c>.</summary>
    public static async Task<string> CreateAsync(string kind, string validToken, string refreshToken, string issuer, SigningKeyRing ring, string jwks)
    {
        var now = DateTime.UtcNow;
        return kind switch
        {
            "alg-none" => Unsigned(validToken),
            "hs256-with-public-key" => SignHs256WithPublicKey(validToken, jwks),
            "expired" => await SignAsync(ring, Descriptor(issuer, PlatformClaims.Audience, notBefore: now.AddHours(-2), expires: now.AddHours(-1))),
            "not-yet-valid" => await SignAsync(ring, Descriptor(issuer, PlatformClaims.Audience, notBefore: now.AddHours(1), expires: now.AddHours(2))),
            "wrong-issuer" => await SignAsync(ring, Descriptor("https://evil.example", PlatformClaims.Audience, now, now.AddMinutes(10))),
            "wrong-audience" => await SignAsync(ring, Descriptor(issuer, "another-api", now, now.AddMinutes(10))),
            "unknown-kid" => SignWithUnknownKey(Descriptor(issuer, PlatformClaims.Audience, now, now.AddMinutes(10))),
            "tampered-payload" => Tamper(validToken),
            "wrong-typ" => await SignAsync(ring, Descriptor(issuer, PlatformClaims.Audience, now, now.AddMinutes(10), type: "JWT")),
            "refresh-token" => refreshToken,
            "garbage" => "not.a.jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private static SecurityTokenDescriptor Descriptor(string issuer, string audience, DateTime notBefore, DateTime expires, string type = PlatformClaims.AccessTokenType) => new()
    {
        Issuer = issuer,
        Audience = audience,
        IssuedAt = notBefore,
        NotBefore = notBefore,
        Expires = expires,
        TokenType = type,
        Subject = new ClaimsIdentity(
        [
            new Claim(PlatformClaims.Subject, Guid.NewGuid().ToString()),
            new Claim(PlatformClaims.TenantId, "default"),
            new Claim(PlatformClaims.Roles, Roles.TenantAdmin),
            new Claim(PlatformClaims.TokenId, Guid.NewGuid().ToString()),
        ]),
    };

    private static async Task<string> SignAsync(SigningKeyRing ring, SecurityTokenDescriptor descriptor)
    {
        descriptor.SigningCredentials = await ring.GetSigningCredentialsAsync(CancellationToken.None);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string SignWithUnknownKey(SecurityTokenDescriptor descriptor)
    {
        using var rsa = RSA.Create(2048);
        descriptor.SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa.ExportParameters(true)) { KeyId = "unknown-" + Guid.NewGuid().ToString("N") }, SecurityAlgorithms.RsaSha256);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static string Unsigned(string validToken)
    {
        var parts = validToken.Split('.');
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"at+jwt"}""");
        return $"{header}.{parts[1]}.";
    }

    // The classic confusion attack: HMAC keyed with the RSA public key, hoping the validator uses it as a secret.
    private static string SignHs256WithPublicKey(string validToken, string jwks)
    {
        var key = new JsonWebKeySet(jwks).Keys[0];
        using var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(key.N), Exponent = Base64UrlEncoder.DecodeBytes(key.E) });
        var secret = Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem());
        var header = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new { alg = "HS256", typ = PlatformClaims.AccessTokenType, kid = key.Kid }));
        var payload = validToken.Split('.')[1];
        var signature = Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    // Keep the signature, promote the caller: the signature no longer matches.
    private static string Tamper(string validToken)
    {
        var parts = validToken.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload[PlatformClaims.Roles] = new JsonArray(Roles.PlatformAdmin);
        payload[PlatformClaims.TenantId] = "another-tenant";
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
    }
}
