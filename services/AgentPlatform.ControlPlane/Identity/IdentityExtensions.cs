using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Secrets;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>The platform's authorization server: token endpoint, discovery, signing keys, credentials, bootstrap.</summary>
public static class IdentityExtensions
{
    public static IHostApplicationBuilder AddPlatformIdentity(this IHostApplicationBuilder builder)
    {
        builder.AddSecretProtection();

        var services = builder.Services;
        services.AddOptions<TokenServiceOptions>()
            .BindConfiguration(TokenServiceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddSingleton<IdentityTelemetry>();
        services.AddSingleton<DummyPasswordHash>();
        services.AddSingleton<SigningKeyManager>();
        services.AddSingleton<SigningKeyRing>();
        services.AddSingleton<AccessTokenIssuer>();
        services.AddSingleton<IdentityBootstrapper>();

        services.AddScoped<PasswordGrant>();
        services.AddScoped<ClientCredentialsGrant>();
        services.AddScoped<ServiceTokenGrant>();
        services.AddScoped<RefreshTokenGrant>();
        services.AddScoped<ApiKeyExchangeGrant>();

        // The control plane validates its own tokens with the keys it holds, not over HTTP from itself.
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, LocalSigningKeysPostConfigure>();

        services.AddHostedService<IdentityMaintenanceService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder endpoints) => endpoints
        .MapTokenEndpoints()
        .MapDiscoveryEndpoints()
        .MapSigningKeysApi()
        .MapCredentialsApis();
}
