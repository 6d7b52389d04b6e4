using System.Security.Claims;
using System.Security.Cryptography;
using AgentPlatform.Domain.Identity;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.Gateway.Tests.Authentication;

public sealed class CachingTokenHandlerTests : IDisposable
{
    private const string Issuer = "http://issuer.test";

    private readonly RSA rsa = RSA.Create(2048);
    private readonly RSA strangerRsa = RSA.Create(2048);
    private readonly RsaSecurityKey key;
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private int fullValidations;

    public CachingTokenHandlerTests() => key = new RsaSecurityKey(rsa) { KeyId = "key-1" };

    [Fact]
    public async Task A_token_that_passed_is_accepted_again_without_validating_it_again_with_an_identity_of_its_own()
    {
        var handler = Handler();
        var token = Issue();

        var first = await handler.ValidateTokenAsync(token, Parameters());
        var second = await handler.ValidateTokenAsync(token, Parameters());

        Assert.True(first.IsValid);
        Assert.True(second.IsValid);
        Assert.Equal(1, fullValidations);
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Equal(
            first.ClaimsIdentity.Claims.Select(c => (c.Type, c.Value)),
            second.ClaimsIdentity.Claims.Select(c => (c.Type, c.Value)));
        Assert.Equal("acme", second.ClaimsIdentity.FindFirst(PlatformClaims.TenantId)?.Value);
        Assert.Same(first.SecurityToken, second.SecurityToken);
    }

    [Fact]
    public async Task A_remembered_token_is_validated_in_full_again_once_the_cache_duration_has_passed()
    {
        var handler = Handler(duration: TimeSpan.FromMinutes(5));
        var token = Issue();
        await handler.ValidateTokenAsync(token, Parameters());

        time.Advance(TimeSpan.FromMinutes(4));
        await handler.ValidateTokenAsync(token, Parameters());
        Assert.Equal(1, fullValidations);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);
        Assert.Equal(2, fullValidations);
    }

    [Fact]
    public async Task A_token_is_never_remembered_past_its_own_expiry()
    {
        var handler = Handler(duration: TimeSpan.FromMinutes(30));
        var token = Issue(lifetime: TimeSpan.FromMinutes(2));
        await handler.ValidateTokenAsync(token, Parameters());

        time.Advance(TimeSpan.FromMinutes(3));
        await handler.ValidateTokenAsync(token, Parameters());

        Assert.Equal(2, fullValidations);
    }

    [Fact]
    public async Task A_signing_key_removed_from_the_issuer_keys_stops_the_tokens_it_signed_at_once()
    {
        var handler = Handler();
        var token = Issue();
        Assert.True((await handler.ValidateTokenAsync(token, Parameters())).IsValid);

        var rotated = Parameters(new RsaSecurityKey(strangerRsa) { KeyId = "key-2" });
        var result = await handler.ValidateTokenAsync(token, rotated);

        Assert.False(result.IsValid);
        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task Keys_published_through_a_configuration_manager_are_checked_there_as_the_bearer_handler_passes_them()
    {
        var handler = Handler();
        var token = Issue();
        var published = new OpenIdConnectConfiguration();
        published.SigningKeys.Add(key);
        var manager = new StaticConfigurationManager<OpenIdConnectConfiguration>(published);
        var parameters = Parameters();
        parameters.IssuerSigningKeys = null;
        parameters.ConfigurationManager = manager;

        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);
        Assert.Equal(1, fullValidations);

        // The JWKS no longer publishes the key: the remembered token is refused at its next request.
        published.SigningKeys.Clear();
        published.SigningKeys.Add(new RsaSecurityKey(strangerRsa) { KeyId = "key-2" });
        Assert.False((await handler.ValidateTokenAsync(token, parameters)).IsValid);
        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task A_token_that_failed_is_never_remembered()
    {
        var handler = Handler();
        var forged = Issue(signingKey: new RsaSecurityKey(strangerRsa) { KeyId = "key-1" });

        Assert.False((await handler.ValidateTokenAsync(forged, Parameters())).IsValid);
        Assert.False((await handler.ValidateTokenAsync(forged, Parameters())).IsValid);

        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task The_cache_never_holds_more_than_its_capacity()
    {
        var handler = Handler(capacity: 3);
        for (var i = 0; i < 10; i++)
        {
            Assert.True((await handler.ValidateTokenAsync(Issue(subject: $"user-{i}"), Parameters())).IsValid);
            Assert.InRange(handler.Count, 1, 3);
        }
    }

    public void Dispose()
    {
        rsa.Dispose();
        strangerRsa.Dispose();
    }

    private CachingTokenHandler Handler(TimeSpan? duration = null, int capacity = 100) =>
        new(duration ?? TimeSpan.FromMinutes(5), capacity, time);

    private TokenValidationParameters Parameters(SecurityKey? signingKey = null) => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = PlatformClaims.Audience,
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        ValidTypes = [PlatformClaims.AccessTokenType],
        IssuerSigningKeys = [signingKey ?? key],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        // Counts the full validations; the cache answers without calling it. The real lifetime rule still applies.
        LifetimeValidator = (notBefore, expires, _, _) =>
        {
            Interlocked.Increment(ref fullValidations);
            return expires > DateTime.UtcNow;
        },
    };

    private string Issue(string subject = "user-1", TimeSpan? lifetime = null, SecurityKey? signingKey = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = PlatformClaims.Audience,
            Subject = new ClaimsIdentity([new Claim(PlatformClaims.Subject, subject), new Claim(PlatformClaims.TenantId, "acme")]),
            IssuedAt = now,
            NotBefore = now.AddMinutes(-1),
            Expires = now + (lifetime ?? TimeSpan.FromHours(1)),
            TokenType = PlatformClaims.AccessTokenType,
            SigningCredentials = new SigningCredentials(signingKey ?? key, SecurityAlgorithms.RsaSha256),
        });
    }
}
