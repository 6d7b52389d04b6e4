using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Authentication;

/// <summary>
/// A valid access token for a session: the stored one while it has more than
/// <see cref="ConsoleOptions.TokenRefreshMargin"/> left, else a fresh one from the refresh_token grant. Refresh tokens
/// rotate, so a session refreshes one at a time (however many pages and tabs ask at once) and the others use what
/// that refresh stored. A refused refresh ends the session (<see cref="SessionExpiredException"/>); an authorization
/// server that cannot answer leaves the session alone and its current token in use while it is still valid.
/// </summary>
public sealed class AccessTokenProvider(
    ConsoleSessionStore store,
    PlatformTokenClient tokenClient,
    SessionRefreshLocks locks,
    IOptions<ConsoleOptions> options,
    TimeProvider timeProvider,
    ILogger<AccessTokenProvider> logger)
{
    public async Task<string> GetAccessTokenAsync(string sessionId, CancellationToken cancellationToken)
    {
        var tokens = await store.GetTokensAsync(sessionId, cancellationToken) ?? throw Ended();
        if (!NeedsRefresh(tokens))
        {
            return tokens.AccessToken;
        }

        var gate = locks.For(sessionId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Whoever held the lock before may have refreshed already.
            tokens = await store.GetTokensAsync(sessionId, cancellationToken) ?? throw Ended();
            if (!NeedsRefresh(tokens))
            {
                return tokens.AccessToken;
            }

            return await RefreshAsync(sessionId, tokens);
        }
        finally
        {
            gate.Release();
        }
    }

    // Not cancellable once sent: a refresh whose answer is dropped has spent the old refresh token, and its successor
    // would be lost with it (the HttpClient's own timeout still bounds the wait).
    private async Task<string> RefreshAsync(string sessionId, SessionTokens tokens)
    {
        TokenResult result;
        try
        {
            result = await tokenClient.RefreshAsync(tokens.RefreshToken, CancellationToken.None);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            if (tokens.AccessTokenExpiresAt > timeProvider.GetUtcNow())
            {
                logger.LogWarning(exception, "Refreshing the access token failed; the current one is used until it expires.");
                return tokens.AccessToken;
            }

            throw new HttpRequestException("The platform's authorization server could not be reached to renew the session.", exception);
        }

        if (result.Token is not { RefreshToken: not null } token)
        {
            logger.LogInformation("The refresh token was refused ({Error}); the session ends.", result.Error?.Error);
            await store.RemoveAsync(sessionId);
            throw Ended();
        }

        var renewed = SessionTokens.From(token, timeProvider.GetUtcNow());
        await store.SetTokensAsync(sessionId, renewed, CancellationToken.None);
        return renewed.AccessToken;
    }

    private bool NeedsRefresh(SessionTokens tokens) =>
        tokens.AccessTokenExpiresAt - timeProvider.GetUtcNow() <= options.Value.TokenRefreshMargin;

    private static SessionExpiredException Ended() => new("The session has ended; sign in again.");
}

/// <summary>
/// One refresh at a time per session, in this process. Striped: a fixed set of locks a session id hashes onto, so
/// nothing grows with the number of sessions (two sessions sharing a stripe only wait for each other's refresh).
/// Replicas sharing a session rely on the authorization server's reuse grace for a concurrent refresh.
/// </summary>
public sealed class SessionRefreshLocks
{
    private readonly SemaphoreSlim[] stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public SemaphoreSlim For(string sessionId) =>
        stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(sessionId) % (uint)stripes.Length)];
}
