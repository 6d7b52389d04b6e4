using AgentPlatform.Domain.Identity;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Authentication;

public static class ConsoleAuthenticationExtensions
{
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";
    public const string ForbiddenPath = "/forbidden";
    public const string ReturnUrlParameter = "returnUrl";
    public const string CookieName = "agentplatform.console";

    /// <summary>
    /// Sign-in through the platform's token endpoint: a cookie that carries only a session key, the tokens in
    /// <see cref="ConsoleSessionStore"/>, <see cref="AccessTokenProvider"/> for a valid token, every page behind
    /// sign-in (fallback policy) and one authorization policy per permission, named like the permission
    /// (<c>[Authorize(Policy = Permissions.TasksWrite)]</c>).
    /// </summary>
    public static IHostApplicationBuilder AddConsoleAuthentication(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddDistributedMemoryCache();
        services.AddDataProtection().SetApplicationName("AgentPlatform.Console");

        services.AddSingleton<ConsoleSessionStore>();
        services.AddSingleton<SessionRefreshLocks>();
        services.AddScoped<AccessTokenProvider>();
        services.AddScoped<ConsoleSignIn>();
        services.AddHttpClient<PlatformTokenClient>((provider, http) =>
            http.BaseAddress = provider.GetRequiredService<IOptions<ConsoleOptions>>().Value.ControlPlaneUrl);

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = SignInPath;
            cookie.LogoutPath = SignOutPath;
            cookie.AccessDeniedPath = ForbiddenPath;
            cookie.ReturnUrlParameter = ReturnUrlParameter;
        });
        services.AddSingleton<IConfigureOptions<CookieAuthenticationOptions>, ConfigureSessionCookie>();

        var authorization = services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        foreach (var permission in Permissions.All)
        {
            authorization.AddPolicy(permission, policy => policy.RequireAuthenticatedUser().RequireAssertion(context => context.User.HasPermission(permission)));
        }

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, SessionRevalidatingAuthenticationStateProvider>();
        return builder;
    }

    /// <summary>
    /// <c>POST /signout</c> (a form with an antiforgery token): revokes the session's refresh token at the platform,
    /// removes the server-side session, clears the cookie and goes to sign-in.
    /// </summary>
    public static IEndpointRouteBuilder MapConsoleSignOut(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(SignOutPath, SignOutAsync).AllowAnonymous().WithMetadata(new RequireAntiforgeryTokenAttribute());
        return endpoints;
    }

    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> SignOutAsync(
        HttpContext context, ConsoleSessionStore store, PlatformTokenClient tokenClient, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // The antiforgery middleware only records its verdict; an endpoint without form binding acts on it itself.
        if (context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: true })
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The sign-out form has expired. Reload the page and sign out again.");
        }

        if (context.User.GetSessionId() is { } sessionId && await store.GetTokensAsync(sessionId, cancellationToken) is { } tokens)
        {
            try
            {
                await tokenClient.RevokeAsync(tokens.RefreshToken, cancellationToken);
            }
            catch (HttpRequestException exception)
            {
                // The session ends here regardless; its refresh token is unreachable from now on and expires.
                loggers.CreateLogger(typeof(ConsoleAuthenticationExtensions)).LogWarning(exception, "Revoking the refresh token at sign-out failed.");
            }
        }

        // Removes the session from the store (the cookie handler calls ITicketStore.RemoveAsync) and clears the cookie.
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.LocalRedirect(SignInPath);
    }
}
