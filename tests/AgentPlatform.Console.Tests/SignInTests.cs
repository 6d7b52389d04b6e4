using System.Text;
using AgentPlatform.Console.Authentication;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Tests;

public sealed class SignInTests
{
    [Theory]
    [InlineData("/", true)]
    [InlineData("/tasks?status=running", true)]
    [InlineData("/tasks/0b6f/details#x", true)]
    [InlineData("//evil.example/path", false)]
    [InlineData("/\\evil.example", false)]
    [InlineData("https://evil.example/", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("tasks", false)]
    [InlineData("/tasks\r\nSet-Cookie: x=1", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_local_paths_are_return_urls(string? url, bool local)
    {
        Assert.Equal(local, LocalUrl.IsLocal(url));
        Assert.Equal(local ? url : "/", LocalUrl.OrRoot(url));
    }

    [Fact]
    public void The_signed_in_user_has_the_tokens_claims_and_the_session_key_but_not_the_token()
    {
        var accessToken = TestTokens.AccessToken("user-7", "acme", "alice", "viewer", "operator");

        var user = ConsoleClaims.CreatePrincipal(accessToken, "session-7");

        Assert.True(user.Identity?.IsAuthenticated);
        Assert.Equal("alice", user.Identity?.Name);
        Assert.Equal("alice", user.GetUserName());
        Assert.Equal("acme", user.GetTenantId());
        Assert.Equal("session-7", user.GetSessionId());
        Assert.Equal(["viewer", "operator"], user.GetRoles());
        Assert.True(user.HasPermission(AgentPlatform.Domain.Identity.Permissions.TasksWrite));
        Assert.False(user.HasPermission(AgentPlatform.Domain.Identity.Permissions.AuditRead));
        Assert.DoesNotContain(user.Claims, claim => claim.Value == accessToken || claim.Type == "jti");
    }

    [Fact]
    public async Task The_session_store_keeps_tickets_and_tokens_encrypted_under_the_session_key()
    {
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        var store = new ConsoleSessionStore(cache, new EphemeralDataProtectionProvider(), Options.Create(new ConsoleOptions()));
        var user = ConsoleClaims.CreatePrincipal(TestTokens.AccessToken(roles: "viewer"), "session-9");
        var ct = TestContext.Current.CancellationToken;

        var key = await store.StoreAsync(new AuthenticationTicket(user, "Cookies"));
        await store.SetTokensAsync(key, new SessionTokens("access-secret", "refresh-secret", DateTimeOffset.UtcNow.AddMinutes(15)), ct);

        Assert.Equal("session-9", key);
        Assert.Equal("alice", (await store.RetrieveAsync(key))?.Principal.Identity?.Name);
        Assert.Equal("refresh-secret", (await store.GetTokensAsync(key, ct))?.RefreshToken);
        var stored = Encoding.UTF8.GetString(await cache.GetAsync("console:session:tokens:" + key, ct) ?? []);
        Assert.DoesNotContain("secret", stored, StringComparison.Ordinal);
        Assert.True(await store.TouchAsync(key, ct));

        await store.RemoveAsync(key);

        Assert.Null(await store.RetrieveAsync(key));
        Assert.Null(await store.GetTokensAsync(key, ct));
        Assert.False(await store.TouchAsync(key, ct));
    }

    [Fact]
    public async Task Tokens_written_with_another_key_ring_are_no_session()
    {
        var cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        var writer = new ConsoleSessionStore(cache, new EphemeralDataProtectionProvider(), Options.Create(new ConsoleOptions()));
        var reader = new ConsoleSessionStore(cache, new EphemeralDataProtectionProvider(), Options.Create(new ConsoleOptions()));
        var ct = TestContext.Current.CancellationToken;

        await writer.SetTokensAsync("s", new SessionTokens("a", "r", DateTimeOffset.UtcNow.AddMinutes(1)), ct);

        Assert.Null(await reader.GetTokensAsync("s", ct));
    }

    [Fact]
    public void Session_ids_are_long_and_unguessable()
    {
        var ids = Enumerable.Range(0, 100).Select(_ => ConsoleSessionStore.NewSessionId()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{64}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
