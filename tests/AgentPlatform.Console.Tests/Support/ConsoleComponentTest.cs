using System.Security.Claims;
using AgentPlatform.Console.Authentication;
using AgentPlatform.Console.Platform;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace AgentPlatform.Console.Tests.Support;

/// <summary>
/// bunit with MudBlazor and the console's real API client, session store and token provider; only the platform's
/// HTTP side is fake (<see cref="Platform"/>). Async disposal, because MudBlazor's popovers dispose asynchronously.
/// </summary>
public abstract class ConsoleComponentTest : IAsyncLifetime
{
    public const string SessionId = "session-1";
    public const string AccessToken = "access-1";

    protected ConsoleComponentTest()
    {
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
        var services = Context.Services;
        services.AddMudServices();
        services.AddLogging();
        services.AddSingleton(Options.Create(ConsoleOptions));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Sessions);
        services.AddSingleton<SessionRefreshLocks>();
        services.AddSingleton(new PlatformTokenClient(new HttpClient(TokenEndpoint) { BaseAddress = new Uri("http://controlplane") }));
        services.AddScoped<AccessTokenProvider>();
        services.AddSingleton<IHttpClientFactory>(new FakeHttpClientFactory(Platform));
        services.AddScoped<PlatformApi>();
        Authorization = Context.AddAuthorization();

        // Pages start live work (event streams) only in an interactive circuit, which this stands for.
        Context.Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected BunitContext Context { get; } = new();

    protected BunitAuthorizationContext Authorization { get; }

    protected ConsoleOptions ConsoleOptions { get; } = new();

    protected ConsoleSessionStore Sessions { get; } = Support.Sessions.Store();

    /// <summary>The platform's REST API.</summary>
    protected FakeHttpHandler Platform { get; } = new();

    /// <summary>The platform's token endpoint.</summary>
    protected FakeHttpHandler TokenEndpoint { get; } = new();

    /// <summary>Signs in a user with <paramref name="roles"/> whose session holds a token valid for 15 minutes.</summary>
    protected void SignInAs(params string[] roles)
    {
        Authorization.SetAuthorized("alice");
        Authorization.SetClaims(
        [
            new Claim("name", "alice"),
            new Claim("tenant_id", "acme"),
            new Claim(ConsoleClaims.SessionId, SessionId),
            .. roles.Select(role => new Claim("roles", role)),
        ]);
        Sessions.SetTokensAsync(SessionId, new SessionTokens(AccessToken, "refresh-1", DateTimeOffset.UtcNow.AddMinutes(15)), CancellationToken.None)
            .GetAwaiter().GetResult();
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        Platform.Dispose();
        TokenEndpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}
