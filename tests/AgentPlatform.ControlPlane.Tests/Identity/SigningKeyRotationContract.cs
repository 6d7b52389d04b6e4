using System.Diagnostics;
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
/// Signing key rotation, with the publish lead time shortened to a few seconds: a new key is in the JWKS before it
/// signs, tokens of the old key keep validating, and an immediate rotation withdraws the old key. Tokens come from
/// the gateway's public endpoints; the admin API is called on the control plane itself, because how fast other
/// validators (the gateway) learn a new key follows their own JWKS refresh schedule, which this shortened lead
/// time does not model (in production the lead time covers it).
/// </summary>
public abstract class SigningKeyRotationContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rotated_key_is_published_before_it_signs_and_the_old_keys_tokens_keep_validating()
    {
        var platform = await fixture.GetAsync();
        var oldToken = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
        var oldKid = AuthServer.Kid(oldToken);
        using var admin = ControlPlaneClient(platform, oldToken);

        using var rotated = await admin.PostAsync(new Uri("/api/signing-keys/rotate", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var key = (await rotated.ReadJsonAsync()).GetProperty("key");
        var newKid = key.GetProperty("kid").GetString()!;
        Assert.Equal("pending", key.GetProperty("status").GetString());
        Assert.NotEqual(oldKid, newKid);

        // Published now, signing only after the lead time.
        Assert.Contains(newKid, await platform.PublishedKidsAsync());
        var beforeActivation = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
        Assert.Equal(oldKid, AuthServer.Kid(beforeActivation));

        var newToken = await WaitForTokenSignedByAsync(platform, newKid, ShortKeyLeadFixture.PublishLeadTime * 5);
        Assert.True((await platform.ValidateWithDiscoveryAsync(newToken)).IsValid);

        Assert.Contains(oldKid, await platform.PublishedKidsAsync());
        Assert.True((await platform.ValidateWithDiscoveryAsync(oldToken)).IsValid);
        using (var me = await admin.GetAsync(new Uri("/api/me", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        var listing = await admin.GetStringAsync(new Uri("/api/signing-keys", UriKind.Relative), Ct);
        var keys = JsonDocument.Parse(listing).RootElement.EnumerateArray().ToDictionary(k => k.GetProperty("kid").GetString()!, k => k.GetProperty("status").GetString());
        Assert.Equal("active", keys[newKid]);
        Assert.Equal("retired", keys[oldKid]);
        Assert.DoesNotContain("private", listing, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"n\"", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_immediate_rotation_signs_with_the_new_key_at_once_and_withdraws_the_old_one()
    {
        var platform = await fixture.GetAsync();
        var oldToken = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
        var oldKid = AuthServer.Kid(oldToken);
        using var admin = ControlPlaneClient(platform, oldToken);

        using var rotated = await admin.PostAsync(new Uri("/api/signing-keys/rotate?immediate=true", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var body = await rotated.ReadJsonAsync();
        var newKid = body.GetProperty("key").GetProperty("kid").GetString()!;
        Assert.Equal("active", body.GetProperty("key").GetProperty("status").GetString());
        Assert.Contains(oldKid, body.GetProperty("retiredKids").EnumerateArray().Select(k => k.GetString()));

        var newToken = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
        Assert.Equal(newKid, AuthServer.Kid(newToken));
        var published = await platform.PublishedKidsAsync();
        Assert.Contains(newKid, published);
        Assert.DoesNotContain(oldKid, published);
        Assert.False((await platform.ValidateWithDiscoveryAsync(oldToken)).IsValid);

        using (var withOldToken = await admin.GetAsync(new Uri("/api/me", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, withOldToken.StatusCode);
        }

        using var withNewToken = ControlPlaneClient(platform, newToken);
        Assert.Equal(HttpStatusCode.OK, (await withNewToken.GetAsync(new Uri("/api/me", UriKind.Relative), Ct)).StatusCode);

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var record = await db.AuditRecords.SingleAsync(r => r.Action == "signing-key.rotated" && r.TargetId == newKid, Ct);
        Assert.Equal("user", record.ActorType);
        Assert.Contains("\"immediate\":true", record.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_platform_admins_see_or_rotate_signing_keys()
    {
        var platform = await fixture.GetAsync();
        var userName = AuthServer.Unique("ta");
        using (var admin = ControlPlaneClient(platform, (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken))
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName, displayName = "TA", password = AuthServer.Password, roles = new[] { Roles.TenantAdmin } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var tenantAdmin = ControlPlaneClient(platform, (await platform.PasswordAsync(userName, AuthServer.Password)).AccessToken);

        using var list = await tenantAdmin.GetAsync(new Uri("/api/signing-keys", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using var rotate = await tenantAdmin.PostAsync(new Uri("/api/signing-keys/rotate?immediate=true", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, rotate.StatusCode);
    }

    private static HttpClient ControlPlaneClient(RunningPlatform platform, string accessToken)
    {
        var client = new HttpClient { BaseAddress = platform.ControlPlaneAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", accessToken);
        return client;
    }

    private static async Task<string> WaitForTokenSignedByAsync(RunningPlatform platform, string kid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var token = (await platform.PasswordAsync("admin", RunningPlatform.AdminPassword)).AccessToken;
            if (AuthServer.Kid(token) == kid)
            {
                return token;
            }

            Assert.True(clock.Elapsed < timeout, $"No token was signed by the new key {kid} within {timeout}.");
            await Task.Delay(TimeSpan.FromMilliseconds(250), Ct);
        }
    }
}

public sealed class SqliteSigningKeyRotationTests(SqliteShortKeyLeadFixture fixture) : SigningKeyRotationContract<SqliteShortKeyLeadFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresSigningKeyRotationTests(PostgresShortKeyLeadFixture fixture) : SigningKeyRotationContract<PostgresShortKeyLeadFixture>(fixture);
