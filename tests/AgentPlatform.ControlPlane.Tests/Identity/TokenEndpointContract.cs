using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>
/// The token and revocation endpoints through the gateway, against SQLite and PostgreSQL alike: every grant, the
/// access token's shape, sign-in throttling, refresh-token rotation and reuse detection, and bad input.
/// </summary>
public abstract class TokenEndpointContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private const int MaxFailedSignIns = 5;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_password_grant_issues_an_RS256_at_jwt_with_the_platform_claims_and_a_refresh_token()
    {
        var platform = await fixture.GetAsync();

        var answer = await platform.PasswordAsync("admin", RunningPlatform.AdminPassword);

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("application/json", answer.ContentType);
        Assert.True(answer.Headers.CacheControl?.NoStore, "Token responses must not be cached.");
        Assert.Equal("Bearer", answer.Body.GetProperty("token_type").GetString());
        Assert.Equal(900, answer.Body.GetProperty("expires_in").GetInt32());
        Assert.StartsWith("rt_", answer.RefreshToken, StringComparison.Ordinal);

        var jwt = new JsonWebToken(answer.AccessToken);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal("RS256", jwt.Alg);
        Assert.Contains(jwt.Kid, await platform.PublishedKidsAsync());

        var claims = AuthServer.Payload(answer.AccessToken);
        Assert.Equal(platform.GatewayAddress.ToString().TrimEnd('/'), claims.GetProperty("iss").GetString());
        Assert.Equal(PlatformClaims.Audience, claims.GetProperty("aud").GetString());
        Assert.Equal(900, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());
        Assert.Equal(claims.GetProperty("iat").GetInt64(), claims.GetProperty("nbf").GetInt64());
        Assert.Equal("default", claims.GetProperty("tenant_id").GetString());
        Assert.True(Guid.TryParse(claims.GetProperty("sub").GetString(), out _));
        Assert.False(string.IsNullOrEmpty(claims.GetProperty("jti").GetString()));
        Assert.Equal(JsonValueKind.Array, claims.GetProperty("roles").ValueKind);
        Assert.Equal([Roles.PlatformAdmin, Roles.TenantAdmin], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        using var client = platform.CreateClient(answer.AccessToken);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        Assert.Equal(claims.GetProperty("sub").GetString(), me.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Access_tokens_validate_using_nothing_but_the_discovery_document_and_its_jwks()
    {
        var platform = await fixture.GetAsync();
        var token = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;

        using var discovery = await platform.Gateway.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, discovery.StatusCode);
        Assert.True(discovery.Headers.CacheControl?.Public);
        var metadata = await discovery.ReadJsonAsync();
        var issuer = platform.GatewayAddress.ToString().TrimEnd('/');
        Assert.Equal(issuer, metadata.GetProperty("issuer").GetString());
        Assert.Equal($"{issuer}/.well-known/jwks.json", metadata.GetProperty("jwks_uri").GetString());
        Assert.Equal($"{issuer}/auth/token", metadata.GetProperty("token_endpoint").GetString());
        Assert.Equal($"{issuer}/auth/revoke", metadata.GetProperty("revocation_endpoint").GetString());
        Assert.Contains(AuthServer.TokenExchange, metadata.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["RS256"], metadata.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString()));

        var rfc8414 = await platform.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/oauth-authorization-server", Ct);
        Assert.Equal(metadata.ToString(), rfc8414.ToString());

        var jwks = await platform.Gateway.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json", Ct);
        foreach (var key in jwks.GetProperty("keys").EnumerateArray())
        {
            Assert.Equal("RSA", key.GetProperty("kty").GetString());
            Assert.True(Base64Url.DecodeFromChars(key.GetProperty("n").GetString()).Length * 8 >= 2048);
            foreach (var privateMember in new[] { "d", "p", "q", "dp", "dq", "qi" })
            {
                Assert.False(key.TryGetProperty(privateMember, out _), $"The JWKS publishes the private member '{privateMember}'.");
            }
        }

        var result = await platform.ValidateWithDiscoveryAsync(token);
        Assert.True(result.IsValid, result.Exception?.ToString());

        var tampered = token[..^4] + (token[^4] == 'A' ? "BBBB" : "AAAA");
        Assert.False((await platform.ValidateWithDiscoveryAsync(tampered)).IsValid);

        var openApi = await platform.Gateway.GetStringAsync(new Uri("/openapi/controlplane.json", UriKind.Relative), Ct);
        foreach (var path in new[] { "/auth/token", "/auth/revoke", "/.well-known/jwks.json", "/api/api-keys", "/api/clients", "/api/signing-keys/rotate" })
        {
            Assert.Contains($"\"{path}\"", openApi, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_user_get_the_same_invalid_grant()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("wrongpw", Roles.Viewer);

        var wrongPassword = await platform.PasswordAsync(userName, "not-the-password-at-all");
        var unknownUser = await platform.PasswordAsync(AuthServer.Unique("nobody"), "not-the-password-at-all");

        foreach (var answer in new[] { wrongPassword, unknownUser })
        {
            Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
            Assert.Equal("application/json", answer.ContentType);
            Assert.True(answer.Headers.CacheControl?.NoStore);
            Assert.Equal("invalid_grant", answer.Error);
        }

        Assert.Equal(wrongPassword.Body.ToString(), unknownUser.Body.ToString());
    }

    [Fact]
    public async Task Parallel_failures_lock_the_account_exactly_and_even_the_right_password_waits_for_the_lockout_to_end()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("locked", Roles.Viewer);

        var answers = await Task.WhenAll(Enumerable.Range(0, MaxFailedSignIns + 3).Select(_ => platform.PasswordAsync(userName, "wrong-password-guess")));

        Assert.All(answers, a => Assert.Equal("invalid_grant", a.Error));
        var wrong = answers.Count(a => a.ErrorDescription!.Contains("wrong", StringComparison.Ordinal));
        Assert.Equal(MaxFailedSignIns, wrong);
        Assert.Equal(3, answers.Length - wrong);

        var whileLocked = await platform.PasswordAsync(userName, AuthServer.Password);
        Assert.Equal("invalid_grant", whileLocked.Error);
        Assert.Contains("Too many failed sign-ins", whileLocked.ErrorDescription, StringComparison.Ordinal);

        var normalized = userName.ToUpperInvariant();
        await using (var scope = platform.CreateTenantScope("default"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var user = await db.Users.SingleAsync(u => u.NormalizedUserName == normalized, Ct);
            Assert.NotNull(user.LockedOutUntil);
            Assert.Equal(MaxFailedSignIns, await db.AuditRecords.CountAsync(r => r.TargetId == user.Id.ToString() && r.Action == "user.sign-in-failed", Ct));
            Assert.Equal(1, await db.AuditRecords.CountAsync(r => r.TargetId == user.Id.ToString() && r.Action == "user.locked-out", Ct));

            // The lockout period passes.
            user.LockedOutUntil = DateTime.UtcNow.AddSeconds(-1);
            user.Version = Guid.NewGuid();
            await db.SaveChangesAsync(Ct);
        }

        var afterLockout = await platform.PasswordAsync(userName, AuthServer.Password);
        Assert.Equal(HttpStatusCode.OK, afterLockout.Status);
        await using (var scope = platform.CreateTenantScope("default"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var user = await db.Users.SingleAsync(u => u.NormalizedUserName == normalized, Ct);
            Assert.Null(user.LockedOutUntil);
            Assert.Equal(0, user.FailedSignInCount);
            Assert.True(await db.AuditRecords.AnyAsync(r => r.TargetId == user.Id.ToString() && r.Action == "user.signed-in", Ct));
        }
    }

    [Fact]
    public async Task Unknown_user_names_are_throttled_like_real_accounts()
    {
        var platform = await fixture.GetAsync();
        var unknown = AuthServer.Unique("ghost");
        var real = await platform.CreateUserAsync("real", Roles.Viewer);

        var unknownAnswers = new List<OAuthAnswer>();
        var realAnswers = new List<OAuthAnswer>();
        for (var i = 0; i <= MaxFailedSignIns; i++)
        {
            unknownAnswers.Add(await platform.PasswordAsync(unknown, "guess-number-" + i));
            realAnswers.Add(await platform.PasswordAsync(real, "guess-number-" + i));
        }

        Assert.Equal(realAnswers.Select(a => a.Body.ToString()), unknownAnswers.Select(a => a.Body.ToString()));
        Assert.Contains("Too many failed sign-ins", unknownAnswers[^1].ErrorDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_users_cannot_sign_in_and_a_role_change_ends_their_refresh_tokens()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var changed = await platform.CreateUserAsync("changed", Roles.Viewer);
        var disabled = await platform.CreateUserAsync("disabled", Roles.Viewer);
        var session = await platform.PasswordAsync(changed, AuthServer.Password);

        using (var update = await admin.PatchAsJsonAsync($"/api/users/{await UserIdAsync(platform, changed)}", new { roles = new[] { Roles.Operator } }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        var refresh = await platform.RefreshAsync(session.RefreshToken);
        Assert.Equal("invalid_grant", refresh.Error);
        var again = await platform.PasswordAsync(changed, AuthServer.Password);
        Assert.Equal([Roles.Operator], AuthServer.Payload(again.AccessToken).GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        using (var update = await admin.PatchAsJsonAsync($"/api/users/{await UserIdAsync(platform, disabled)}", new { disabled = true }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        }

        var refused = await platform.PasswordAsync(disabled, AuthServer.Password);
        Assert.Equal("invalid_grant", refused.Error);
        Assert.Contains("disabled", refused.ErrorDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_tokens_rotate_and_a_reused_one_revokes_its_whole_family_after_the_grace()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("rotating", Roles.Developer);
        var first = await platform.PasswordAsync(userName, AuthServer.Password);

        var second = await platform.RefreshAsync(first.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.True(second.Headers.CacheControl?.NoStore);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.Equal([Roles.Developer], AuthServer.Payload(second.AccessToken).GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var third = await platform.RefreshAsync(second.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, third.Status);

        var familyId = await AgeConsumedTokensAsync(platform, first.RefreshToken);

        var reuse = await platform.RefreshAsync(first.RefreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, reuse.Status);
        Assert.Equal("invalid_grant", reuse.Error);
        var newest = await platform.RefreshAsync(third.RefreshToken);
        Assert.Equal("invalid_grant", newest.Error);

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var family = await db.RefreshTokens.Where(t => t.FamilyId == familyId).ToListAsync(Ct);
        Assert.Equal(3, family.Count);
        Assert.All(family, t => Assert.NotNull(t.RevokedAt));
        Assert.All(family, t => Assert.Equal("reuse-detected", t.RevocationReason));
        Assert.Equal(1, await db.AuditRecords.CountAsync(r => r.TargetId == familyId.ToString() && r.Action == "refresh-token.family-revoked", Ct));
        Assert.Equal(2, await db.AuditRecords.CountAsync(r => r.TargetId == familyId.ToString() && r.Action == "refresh-token.rotated", Ct));
    }

    [Fact]
    public async Task Concurrent_refreshes_with_one_token_within_the_grace_both_succeed()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("concurrent", Roles.Viewer);
        var session = await platform.PasswordAsync(userName, AuthServer.Password);

        var answers = await Task.WhenAll(platform.RefreshAsync(session.RefreshToken), platform.RefreshAsync(session.RefreshToken));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.NotEqual(answers[0].RefreshToken, answers[1].RefreshToken);
        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.OK, (await platform.RefreshAsync(answer.RefreshToken)).Status);
        }
    }

    [Fact]
    public async Task Revoking_a_refresh_token_ends_its_family_and_anything_else_is_answered_200()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("revoking", Roles.Viewer);
        var first = await platform.PasswordAsync(userName, AuthServer.Password);
        var second = await platform.RefreshAsync(first.RefreshToken);

        var revoked = await platform.RevokeAsync(second.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, revoked.Status);
        Assert.True(revoked.Headers.CacheControl?.NoStore);
        Assert.Equal("invalid_grant", (await platform.RefreshAsync(second.RefreshToken)).Error);
        Assert.Equal("invalid_grant", (await platform.RefreshAsync(first.RefreshToken)).Error);

        Assert.Equal(HttpStatusCode.OK, (await platform.RevokeAsync(second.RefreshToken)).Status);
        Assert.Equal(HttpStatusCode.OK, (await platform.RevokeAsync("rt_" + new string('x', 43))).Status);
        Assert.Equal(HttpStatusCode.OK, (await platform.RevokeAsync(second.AccessToken)).Status);
        var missing = await platform.PostFormAsync("/auth/revoke", AuthServer.Form(("token_type_hint", "refresh_token")));
        Assert.Equal("invalid_request", missing.Error);

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Equal(1, await db.AuditRecords.CountAsync(r => r.Action == "refresh-token.revoked" && r.ActorId == AuthServer.Payload(first.AccessToken).GetProperty("sub").GetString(), Ct));
    }

    [Fact]
    public async Task Bad_requests_get_OAuth_errors_never_problem_details()
    {
        var platform = await fixture.GetAsync();

        using (var json = new HttpRequestMessage(HttpMethod.Post, "/auth/token") { Content = JsonContent.Create(new { grant_type = "password" }) })
        {
            AssertOAuthError(await platform.SendAsync(json), "invalid_request");
        }

        AssertOAuthError(await platform.TokenAsync(AuthServer.Form(("username", "admin"))), "invalid_request");
        AssertOAuthError(await platform.TokenAsync(AuthServer.Form(("grant_type", "authorization_code"), ("code", "x"))), "unsupported_grant_type");
        AssertOAuthError(await platform.TokenAsync(AuthServer.Form(("grant_type", "password"), ("username", "admin"))), "invalid_request");
        AssertOAuthError(await platform.PasswordAsync(new string('a', 101), "whatever-password"), "invalid_request");
        AssertOAuthError(await platform.PasswordAsync("admin", new string('p', 1025)), "invalid_request");
        AssertOAuthError(
            await platform.TokenAsync(AuthServer.Form(("grant_type", "password"), ("grant_type", "password"), ("username", "admin"), ("password", RunningPlatform.AdminPassword))),
            "invalid_request");
        AssertOAuthError(
            await platform.TokenAsync(AuthServer.Form(("grant_type", "password"), ("username", "admin"), ("password", RunningPlatform.AdminPassword), ("padding", new string('x', 20_000)))),
            "invalid_request");
        AssertOAuthError(await platform.RefreshAsync("not-a-refresh-token"), "invalid_grant");
        AssertOAuthError(await platform.RefreshAsync("rt_" + new string('y', 43)), "invalid_grant");
        AssertOAuthError(await platform.TokenAsync(AuthServer.Form(("grant_type", "refresh_token"))), "invalid_request");
        AssertOAuthError(
            await platform.TokenAsync(AuthServer.Form(("grant_type", AuthServer.TokenExchange), ("subject_token", "apk_x"), ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"))),
            "invalid_request");
        AssertOAuthError(await platform.ExchangeApiKeyAsync("apk_" + new string('z', 43)), "invalid_grant");

        // An access token is no refresh token, and a refresh token no access token.
        var session = await platform.PasswordAsync("admin", RunningPlatform.AdminPassword);
        AssertOAuthError(await platform.RefreshAsync(session.AccessToken), "invalid_grant");
        using var withRefreshToken = platform.CreateClient(session.RefreshToken);
        using var me = await withRefreshToken.GetAsync(new Uri("/api/me", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task Clients_get_access_tokens_with_client_credentials_by_basic_or_form_and_no_refresh_token()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        using var created = await admin.PostAsJsonAsync("/api/clients", new { name = "Integrator", roles = new[] { Roles.Operator } }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var client = await created.ReadJsonAsync();
        var clientId = client.GetProperty("clientId").GetString()!;
        var secret = client.GetProperty("clientSecret").GetString()!;

        var basic = await platform.TokenAsync(AuthServer.Form(("grant_type", "client_credentials")), AuthServer.Basic(clientId, secret));
        Assert.Equal(HttpStatusCode.OK, basic.Status);
        Assert.False(basic.HasRefreshToken);
        var claims = AuthServer.Payload(basic.AccessToken);
        Assert.Equal(clientId, claims.GetProperty("sub").GetString());
        Assert.Equal(clientId, claims.GetProperty("client_id").GetString());
        Assert.Equal("default", claims.GetProperty("tenant_id").GetString());
        Assert.Equal([Roles.Operator], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var form = await platform.TokenAsync(AuthServer.Form(("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", secret)));
        Assert.Equal(HttpStatusCode.OK, form.Status);
        using var asClient = platform.CreateClient(form.AccessToken);
        var me = await asClient.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        Assert.Equal(clientId, me.GetProperty("clientId").GetString());

        var wrongSecret = await platform.TokenAsync(AuthServer.Form(("grant_type", "client_credentials")), AuthServer.Basic(clientId, secret + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.Status);
        Assert.Equal("invalid_client", wrongSecret.Error);
        Assert.Contains(wrongSecret.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        var both = await platform.TokenAsync(AuthServer.Form(("grant_type", "client_credentials"), ("client_secret", secret)), AuthServer.Basic(clientId, secret));
        Assert.Equal("invalid_request", both.Error);

        using (var revoke = await admin.DeleteAsync(new Uri($"/api/clients/{client.GetProperty("id").GetString()}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal("invalid_client", (await platform.TokenAsync(AuthServer.Form(("grant_type", "client_credentials")), AuthServer.Basic(clientId, secret))).Error);
    }

    [Fact]
    public async Task The_control_plane_validating_its_own_tokens_rejects_forged_expired_and_misdirected_ones()
    {
        var platform = await fixture.GetAsync();
        var genuine = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
        var credentials = await platform.ControlPlaneServices.GetRequiredService<SigningKeyRing>().GetSigningCredentialsAsync(Ct);
        var issuer = platform.GatewayAddress.ToString().TrimEnd('/');
        var claims = new Dictionary<string, object>
        {
            ["sub"] = "attacker",
            ["tenant_id"] = "default",
            ["roles"] = new[] { Roles.PlatformAdmin },
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        var now = DateTime.UtcNow;
        string Sign(SigningCredentials signing, string iss = "", string aud = PlatformClaims.Audience, string typ = PlatformClaims.AccessTokenType, DateTime? expires = null) =>
            new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                Issuer = iss.Length == 0 ? issuer : iss,
                Audience = aud,
                Claims = claims,
                IssuedAt = now.AddHours(-2),
                NotBefore = now.AddHours(-2),
                Expires = expires ?? now.AddMinutes(10),
                SigningCredentials = signing,
                TokenType = typ,
            });

        using var unknownRsa = RSA.Create(2048);
        var jwks = await platform.Gateway.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative), Ct);
        var unsigned = $"{Base64Url.EncodeToString(Encoding.UTF8.GetBytes("{\"alg\":\"none\",\"typ\":\"at+jwt\"}"))}.{genuine.Split('.')[1]}.";
        var payload = AuthServer.Payload(genuine).GetRawText().Replace("\"tenant-admin\"", "\"viewer\"", StringComparison.Ordinal);
        var tampered = $"{genuine.Split('.')[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{genuine.Split('.')[2]}";

        var forgeries = new Dictionary<string, string>
        {
            ["alg none"] = unsigned,
            ["HS256 keyed with the public JWKS"] = Sign(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwks)), SecurityAlgorithms.HmacSha256)),
            ["unknown kid"] = Sign(new SigningCredentials(new RsaSecurityKey(unknownRsa) { KeyId = "unknown-kid" }, SecurityAlgorithms.RsaSha256)),
            ["expired"] = Sign(credentials, expires: now.AddMinutes(-5)),
            ["wrong issuer"] = Sign(credentials, iss: "https://evil.example"),
            ["wrong audience"] = Sign(credentials, aud: "someone-else"),
            ["wrong typ"] = Sign(credentials, typ: "JWT"),
            ["tampered payload"] = tampered,
        };

        using var direct = new HttpClient { BaseAddress = platform.ControlPlaneAddress };
        foreach (var (name, token) in forgeries.Append(new("genuine", genuine)))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await direct.SendAsync(request, Ct);
            Assert.True(
                response.StatusCode == (name == "genuine" ? HttpStatusCode.OK : HttpStatusCode.Unauthorized),
                $"{name}: {(int)response.StatusCode}");
        }
    }

    private static void AssertOAuthError(OAuthAnswer answer, string error)
    {
        Assert.True(answer.Status == HttpStatusCode.BadRequest, $"Expected 400 {error}, got {(int)answer.Status} {answer.Body}");
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal(error, answer.Error);
        Assert.False(string.IsNullOrEmpty(answer.ErrorDescription));
    }

    private static async Task<Guid> UserIdAsync(RunningPlatform platform, string userName)
    {
        await using var scope = platform.CreateTenantScope("default");
        var normalized = userName.ToUpperInvariant();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Users
            .Where(u => u.NormalizedUserName == normalized).Select(u => u.Id).SingleAsync(Ct);
    }

    /// <summary>Moves the family's consumption times a minute back, as if the reuse grace had passed.</summary>
    private static async Task<Guid> AgeConsumedTokensAsync(RunningPlatform platform, string refreshToken)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));
        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var familyId = await db.RefreshTokens.Where(t => t.TokenHash == hash).Select(t => t.FamilyId).SingleAsync(Ct);
        var consumed = await db.RefreshTokens.Where(t => t.FamilyId == familyId && t.ConsumedAt != null).ToListAsync(Ct);
        foreach (RefreshToken token in consumed)
        {
            token.ConsumedAt = token.ConsumedAt!.Value.AddMinutes(-1);
            token.Version = Guid.NewGuid();
        }

        await db.SaveChangesAsync(Ct);
        return familyId;
    }
}

public sealed class SqliteTokenEndpointTests(SqlitePlatformFixture fixture) : TokenEndpointContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresTokenEndpointTests(PostgresPlatformFixture fixture) : TokenEndpointContract<PostgresPlatformFixture>(fixture);
