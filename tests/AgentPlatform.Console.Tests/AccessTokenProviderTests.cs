using System.Net;
using AgentPlatform.Console.Authentication;
using AgentPlatform.Console.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Console.Tests;

public sealed class AccessTokenProviderTests : IDisposable
{
    private const string SessionId = "session-1";

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly FakeHttpHandler tokenEndpoint = new();
    private readonly ConsoleSessionStore store = Sessions.Store();
    private readonly SessionRefreshLocks locks = new();
    private int issued;

    public AccessTokenProviderTests() => tokenEndpoint.Respond = _ => Task.FromResult(IssueTokens());

    [Fact]
    public async Task A_token_with_more_than_the_margin_left_is_used_as_it_is()
    {
        await StoreTokensAsync("access-0", "refresh-0", expiresIn: TimeSpan.FromMinutes(10));

        var token = await Provider().GetAccessTokenAsync(SessionId, TestContext.Current.CancellationToken);

        Assert.Equal("access-0", token);
        Assert.Empty(tokenEndpoint.Requests);
    }

    [Fact]
    public async Task A_token_that_expires_within_the_margin_is_refreshed_and_the_rotated_refresh_token_is_kept()
    {
        var ct = TestContext.Current.CancellationToken;
        await StoreTokensAsync("access-0", "refresh-0", expiresIn: TimeSpan.FromSeconds(59));

        var token = await Provider().GetAccessTokenAsync(SessionId, ct);

        Assert.Equal("access-1", token);
        var request = Assert.Single(tokenEndpoint.Requests);
        Assert.Equal("/auth/token", request.PathAndQuery);
        Assert.Equal("grant_type=refresh_token&refresh_token=refresh-0", request.Body);
        var stored = await store.GetTokensAsync(SessionId, ct);
        Assert.Equal(new SessionTokens("access-1", "refresh-1", time.GetUtcNow().AddMinutes(15)), stored);

        // The next refresh presents the successor, never the spent token.
        time.Advance(TimeSpan.FromMinutes(14.5));
        Assert.Equal("access-2", await Provider().GetAccessTokenAsync(SessionId, ct));
        Assert.Equal("grant_type=refresh_token&refresh_token=refresh-1", tokenEndpoint.Requests[1].Body);
    }

    [Fact]
    public async Task Concurrent_callers_of_one_session_share_one_refresh()
    {
        var ct = TestContext.Current.CancellationToken;
        await StoreTokensAsync("access-0", "refresh-0", expiresIn: TimeSpan.FromSeconds(30));
        var release = new TaskCompletionSource();
        tokenEndpoint.Respond = async _ =>
        {
            await release.Task;
            return IssueTokens();
        };

        // Separate providers: separate circuits (tabs) of the same session.
        var callers = Enumerable.Range(0, 5).Select(_ => Provider().GetAccessTokenAsync(SessionId, ct)).ToList();
        await WaitUntilAsync(() => tokenEndpoint.Requests.Count == 1);
        release.SetResult();
        var tokens = await Task.WhenAll(callers);

        Assert.All(tokens, token => Assert.Equal("access-1", token));
        Assert.Single(tokenEndpoint.Requests);
    }

    [Fact]
    public async Task A_refused_refresh_ends_the_session()
    {
        var ct = TestContext.Current.CancellationToken;
        await StoreTokensAsync("access-0", "refresh-0", expiresIn: TimeSpan.FromSeconds(10));
        tokenEndpoint.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.BadRequest,
            """{"error":"invalid_grant","error_description":"The refresh token is invalid, expired or revoked."}"""));

        await Assert.ThrowsAsync<SessionExpiredException>(() => Provider().GetAccessTokenAsync(SessionId, ct));

        Assert.Null(await store.GetTokensAsync(SessionId, ct));
        await Assert.ThrowsAsync<SessionExpiredException>(() => Provider().GetAccessTokenAsync(SessionId, ct));
        Assert.Single(tokenEndpoint.Requests);
    }

    [Fact]
    public async Task An_unreachable_authorization_server_leaves_a_still_valid_token_in_use()
    {
        var ct = TestContext.Current.CancellationToken;
        await StoreTokensAsync("access-0", "refresh-0", expiresIn: TimeSpan.FromSeconds(20));
        tokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));

        Assert.Equal("access-0", await Provider().GetAccessTokenAsync(SessionId, ct));
        Assert.NotNull(await store.GetTokensAsync(SessionId, ct));

        time.Advance(TimeSpan.FromSeconds(21));
        await Assert.ThrowsAsync<HttpRequestException>(() => Provider().GetAccessTokenAsync(SessionId, ct));
        Assert.Equal("refresh-0", (await store.GetTokensAsync(SessionId, ct))?.RefreshToken);
    }

    [Fact]
    public async Task A_session_without_tokens_has_ended()
    {
        await Assert.ThrowsAsync<SessionExpiredException>(() => Provider().GetAccessTokenAsync("unknown", TestContext.Current.CancellationToken));
        Assert.Empty(tokenEndpoint.Requests);
    }

    public void Dispose() => tokenEndpoint.Dispose();

    private AccessTokenProvider Provider() => new(
        store,
        new PlatformTokenClient(new HttpClient(tokenEndpoint, disposeHandler: false) { BaseAddress = new Uri("http://controlplane") }),
        locks,
        Options.Create(new ConsoleOptions()),
        time,
        NullLogger<AccessTokenProvider>.Instance);

    private Task StoreTokensAsync(string accessToken, string refreshToken, TimeSpan expiresIn) =>
        store.SetTokensAsync(SessionId, new SessionTokens(accessToken, refreshToken, time.GetUtcNow() + expiresIn), CancellationToken.None);

    private HttpResponseMessage IssueTokens()
    {
        var n = Interlocked.Increment(ref issued);
        return FakeHttpHandler.Json(HttpStatusCode.OK,
            $$"""{"access_token":"access-{{n}}","token_type":"Bearer","expires_in":900,"refresh_token":"refresh-{{n}}"}""");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
