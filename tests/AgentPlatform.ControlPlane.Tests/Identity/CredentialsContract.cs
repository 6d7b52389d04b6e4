using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>
/// API keys and OAuth clients through the gateway, against SQLite and PostgreSQL alike: shown once, exchanged,
/// revoked, never given roles their creator could not give, invisible to other tenants.
/// </summary>
public abstract class CredentialsContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTimeOffset InThirtyDays => DateTimeOffset.UtcNow.AddDays(30);

    [Fact]
    public async Task An_api_key_is_shown_once_exchanged_for_a_token_that_works_and_stops_working_when_revoked()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());

        using var created = await admin.PostAsJsonAsync("/api/api-keys", new { name = "CI pipeline", roles = new[] { Roles.Developer }, expiresAt = InThirtyDays }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("apk_", key, StringComparison.Ordinal);
        Assert.True(key.Length >= 40);
        Assert.Equal(key[..12], body.GetProperty("prefix").GetString());
        Assert.Equal($"/api/api-keys/{id}", created.Headers.Location?.ToString());

        foreach (var path in new[] { "/api/api-keys", $"/api/api-keys/{id}" })
        {
            var listed = await admin.GetStringAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.Contains(key[..12], listed, StringComparison.Ordinal);
            Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        }

        var exchanged = await platform.ExchangeApiKeyAsync(key);
        Assert.Equal(HttpStatusCode.OK, exchanged.Status);
        Assert.True(exchanged.Headers.CacheControl?.NoStore);
        Assert.Equal("Bearer", exchanged.Body.GetProperty("token_type").GetString());
        Assert.Equal("urn:ietf:params:oauth:token-type:access_token", exchanged.Body.GetProperty("issued_token_type").GetString());
        Assert.Equal(300, exchanged.Body.GetProperty("expires_in").GetInt32());
        Assert.False(exchanged.HasRefreshToken);
        var claims = AuthServer.Payload(exchanged.AccessToken);
        Assert.Equal($"apikey:{id}", claims.GetProperty("sub").GetString());
        Assert.Equal(id, claims.GetProperty("api_key_id").GetString());
        Assert.Equal("default", claims.GetProperty("tenant_id").GetString());
        Assert.Equal([Roles.Developer], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True((await platform.ValidateWithDiscoveryAsync(exchanged.AccessToken)).IsValid);

        using (var asKey = platform.CreateClient(exchanged.AccessToken))
        {
            var me = await asKey.GetFromJsonAsync<JsonElement>("/api/me", Ct);
            Assert.Equal(id, me.GetProperty("apiKeyId").GetString());
            using var mintMore = await asKey.PostAsJsonAsync("/api/api-keys", new { name = "more", roles = new[] { Roles.Developer }, expiresAt = InThirtyDays }, Ct);
            Assert.Equal(HttpStatusCode.Forbidden, mintMore.StatusCode);
        }

        // What integrators do: send the key itself as the bearer credential; the gateway exchanges it.
        using (var withKey = platform.CreateClient(key))
        {
            var me = await withKey.GetFromJsonAsync<JsonElement>("/api/me", Ct);
            Assert.Equal(id, me.GetProperty("apiKeyId").GetString());
            Assert.Equal("default", me.GetProperty("tenantId").GetString());
        }

        Assert.NotNull((await admin.GetFromJsonAsync<JsonElement>($"/api/api-keys/{id}", Ct)).GetProperty("lastUsedAt").GetString());

        using (var revoke = await admin.DeleteAsync(new Uri($"/api/api-keys/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var afterRevoke = await platform.ExchangeApiKeyAsync(key);
        Assert.Equal(HttpStatusCode.BadRequest, afterRevoke.Status);
        Assert.Equal("invalid_grant", afterRevoke.Error);

        // The gateway drops its cached exchange within Gateway:ApiKeys:MaxCacheDuration (1 s here).
        using (var withRevokedKey = platform.CreateClient(key))
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            HttpStatusCode status;
            do
            {
                using var response = await withRevokedKey.GetAsync(new Uri("/api/me", UriKind.Relative), Ct);
                status = response.StatusCode;
                if (status != HttpStatusCode.Unauthorized)
                {
                    await Task.Delay(200, Ct);
                }
            }
            while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
        }
        Assert.NotNull((await admin.GetFromJsonAsync<JsonElement>($"/api/api-keys/{id}", Ct)).GetProperty("revokedAt").GetString());

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Equal(["api-key.created", "api-key.revoked"], await db.AuditRecords.Where(r => r.TargetId == id).OrderBy(r => r.Sequence).Select(r => r.Action).ToListAsync(Ct));
        var stored = await db.ApiKeys.SingleAsync(k => k.Id == Guid.Parse(id), Ct);
        Assert.NotEqual(key, stored.KeyHash);
        Assert.Matches("^[0-9a-f]{64}$", stored.KeyHash);
    }

    [Fact]
    public async Task Credentials_never_carry_roles_their_creator_could_not_give()
    {
        var platform = await fixture.GetAsync();
        using var tenantAdmin = platform.CreateClient((await platform.PasswordAsync(await platform.CreateUserAsync("ta", Roles.TenantAdmin), AuthServer.Password)).AccessToken);
        using var developer = platform.CreateClient((await platform.PasswordAsync(await platform.CreateUserAsync("dev", Roles.Developer), AuthServer.Password)).AccessToken);
        var keysBefore = await CountAsync(platform);

        using (var escalation = await tenantAdmin.PostAsJsonAsync("/api/clients", new { name = "root", roles = new[] { Roles.PlatformAdmin } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, escalation.StatusCode);
            Assert.Equal("application/problem+json", escalation.Content.Headers.ContentType?.MediaType);
        }

        using (var escalation = await tenantAdmin.PostAsJsonAsync("/api/api-keys", new { name = "root", roles = new[] { Roles.PlatformAdmin }, expiresAt = InThirtyDays }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, escalation.StatusCode);
        }

        using (var escalation = await developer.PostAsJsonAsync("/api/api-keys", new { name = "admin", roles = new[] { Roles.TenantAdmin }, expiresAt = InThirtyDays }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, escalation.StatusCode);
        }

        Assert.Equal(keysBefore, await CountAsync(platform));

        using (var allowed = await tenantAdmin.PostAsJsonAsync("/api/api-keys", new { name = "ops", roles = new[] { Roles.TenantAdmin, Roles.Operator }, expiresAt = InThirtyDays }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        }
    }

    [Fact]
    public async Task Invalid_credential_requests_are_refused_with_problem_details_and_nothing_is_written()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = await CountAsync(platform);

        var invalidRequests = new object[]
        {
            new { name = "", roles = new[] { Roles.Viewer }, expiresAt = InThirtyDays },
            new { name = "no roles", roles = Array.Empty<string>(), expiresAt = InThirtyDays },
            new { name = "no expiry", roles = new[] { Roles.Viewer } },
            new { name = "past", roles = new[] { Roles.Viewer }, expiresAt = DateTimeOffset.UtcNow.AddDays(-1) },
            new { name = "too long", roles = new[] { Roles.Viewer }, expiresAt = DateTimeOffset.UtcNow.AddDays(400) },
            new { name = "unknown role", roles = new[] { "superuser" }, expiresAt = InThirtyDays },
        };
        foreach (var request in invalidRequests)
        {
            using var response = await admin.PostAsJsonAsync("/api/api-keys", request, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{request}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True((await response.ReadJsonAsync()).TryGetProperty("errors", out _));
        }

        using (var noRoles = await admin.PostAsJsonAsync("/api/clients", new { name = "x", roles = Array.Empty<string>() }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noRoles.StatusCode);
        }

        Assert.Equal(before, await CountAsync(platform));
    }

    [Fact]
    public async Task Another_tenants_credentials_do_not_exist()
    {
        var platform = await fixture.GetAsync();
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantId = AuthServer.Unique("other");
        var otherAdmin = AuthServer.Unique("other-admin");
        using (var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Other", adminUserName = otherAdmin, adminPassword = AuthServer.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var other = platform.CreateClient((await platform.PasswordAsync(otherAdmin, AuthServer.Password)).AccessToken);
        using var key = await other.PostAsJsonAsync("/api/api-keys", new { name = "theirs", roles = new[] { Roles.Viewer }, expiresAt = InThirtyDays }, Ct);
        var keyBody = await key.ReadJsonAsync();
        var keyId = keyBody.GetProperty("id").GetString();
        using var client = await other.PostAsJsonAsync("/api/clients", new { name = "theirs", roles = new[] { Roles.Viewer } }, Ct);
        var clientId = (await client.ReadJsonAsync()).GetProperty("id").GetString();

        foreach (var path in new[] { $"/api/api-keys/{keyId}", $"/api/clients/{clientId}" })
        {
            using var read = await platformAdmin.GetAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
            using var revoke = await platformAdmin.DeleteAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        }

        Assert.DoesNotContain(keyId!, await platformAdmin.GetStringAsync(new Uri("/api/api-keys", UriKind.Relative), Ct), StringComparison.Ordinal);
        Assert.DoesNotContain(clientId!, await platformAdmin.GetStringAsync(new Uri("/api/clients", UriKind.Relative), Ct), StringComparison.Ordinal);

        // Their key still works, for their tenant only.
        var exchanged = await platform.ExchangeApiKeyAsync(keyBody.GetProperty("key").GetString()!);
        Assert.Equal(tenantId, AuthServer.Payload(exchanged.AccessToken).GetProperty("tenant_id").GetString());
    }

    private static async Task<int> CountAsync(RunningPlatform platform)
    {
        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return await db.ApiKeys.CountAsync(Ct) + await db.OAuthClients.CountAsync(Ct);
    }
}

public sealed class SqliteCredentialsTests(SqlitePlatformFixture fixture) : CredentialsContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresCredentialsTests(PostgresPlatformFixture fixture) : CredentialsContract<PostgresPlatformFixture>(fixture);
