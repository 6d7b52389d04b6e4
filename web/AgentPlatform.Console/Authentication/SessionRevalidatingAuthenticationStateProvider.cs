using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace AgentPlatform.Console.Authentication;

/// <summary>
/// An interactive page keeps the user it started with. Every few minutes this checks that the session still exists
/// (signed out in another tab, expired, refresh refused) and keeps an active one from expiring; when it is gone the
/// page's user becomes anonymous and the router sends them to sign-in.
/// </summary>
public sealed class SessionRevalidatingAuthenticationStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopeFactory)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        if (authenticationState.User.GetSessionId() is not { } sessionId)
        {
            return false;
        }

        await using var scope = scopeFactory.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ConsoleSessionStore>().TouchAsync(sessionId, cancellationToken);
    }
}
