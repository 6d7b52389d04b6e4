namespace AgentPlatform.ControlPlane.Identity;

/// <summary>The platform's authorization server: token endpoint, signing keys, credentials.</summary>
public static class IdentityExtensions
{
    public static IHostApplicationBuilder AddPlatformIdentity(this IHostApplicationBuilder builder)
    {
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
