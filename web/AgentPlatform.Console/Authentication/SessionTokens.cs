namespace AgentPlatform.Console.Authentication;

/// <summary>A session's tokens, held server-side only: never in the cookie, the browser's storage or a page.</summary>
public sealed record SessionTokens(string AccessToken, string RefreshToken, DateTimeOffset AccessTokenExpiresAt)
{
    public static SessionTokens From(TokenResponse response, DateTimeOffset now) => new(
        response.AccessToken,
        response.RefreshToken ?? throw new InvalidOperationException("The token endpoint answered without a refresh token."),
        now.AddSeconds(response.ExpiresIn));
}

/// <summary>The session is gone (signed out, expired, or its refresh token was refused): the user must sign in again.</summary>
public sealed class SessionExpiredException(string message) : Exception(message);
