using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace AgentPlatform.Console.Authentication;

/// <summary>What a sign-in attempt came to; <see cref="Error"/> is safe to show.</summary>
public sealed record SignInOutcome(bool Succeeded, string? Error)
{
    public static SignInOutcome Success { get; } = new(true, null);
}

/// <summary>
/// Signs a user in with the password grant: the tokens go to the session store, the cookie gets the session key.
/// </summary>
public sealed class ConsoleSignIn(PlatformTokenClient tokenClient, ConsoleSessionStore store, TimeProvider timeProvider, ILogger<ConsoleSignIn> logger)
{
    public const string WrongCredentials = "The user name or password is wrong.";
    public const string Unavailable = "Signing in is not possible right now. Try again in a moment.";

    public async Task<SignInOutcome> SignInAsync(HttpContext context, string userName, string password, CancellationToken cancellationToken)
    {
        TokenResult result;
        try
        {
            result = await tokenClient.RequestPasswordTokenAsync(userName.Trim(), password, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(exception, "The token endpoint could not be reached for a sign-in.");
            return new SignInOutcome(false, Unavailable);
        }

        if (result.Token is not { RefreshToken: not null } token)
        {
            // invalid_grant descriptions are written for the person signing in and are the same for unknown names
            // (wrong password, locked out, disabled); anything else says no more than that it failed.
            return new SignInOutcome(false, result.Error is { Error: "invalid_grant", Description: { Length: > 0 } description } ? description : WrongCredentials);
        }

        // Signing in again in the same browser replaces the earlier session rather than leaving it behind.
        if (context.User.GetSessionId() is { } earlier)
        {
            await store.RemoveAsync(earlier);
        }

        var sessionId = ConsoleSessionStore.NewSessionId();
        await store.SetTokensAsync(sessionId, SessionTokens.From(token, timeProvider.GetUtcNow()), cancellationToken);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, ConsoleClaims.CreatePrincipal(token.AccessToken, sessionId));
        return SignInOutcome.Success;
    }
}
