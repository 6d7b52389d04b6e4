using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentPlatform.Gateway.Authentication;

public static class EdgeAuthenticationExtensions
{
    /// <summary>
    /// The platform's token validation (<see cref="PlatformAuthenticationExtensions.AddPlatformAuthentication"/>),
    /// API keys accepted as bearer credentials, and the <see cref="EdgePolicies.Authenticated"/> policy routes name.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeAuthentication(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformAuthentication();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(EdgePolicies.Authenticated, policy => policy.RequireAuthenticatedUser());

        builder.Services.AddOptions<ApiKeyExchangeOptions>()
            .BindConfiguration(ApiKeyExchangeOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<EdgeTelemetry>();
        builder.Services.AddSingleton<ApiKeyExchange>();
        builder.Services.AddSingleton<EdgeBearerEvents>();
        builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options => options.EventsType = typeof(EdgeBearerEvents));

        builder.Services.AddHttpClient(ApiKeyExchange.HttpClientName);
        return builder;
    }
}
