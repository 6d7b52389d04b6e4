using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace AgentPlatform.ServiceDefaults;

/// <summary>Which service and build answered: for support tickets, deployment checks and routing tests.</summary>
public sealed record ServiceVersion(string Service, string Version);

public static class VersionEndpoint
{
    public static RouteHandlerBuilder MapVersionEndpoint(this IEndpointRouteBuilder endpoints, string pattern, string service)
    {
        var version = new ServiceVersion(service, BuildVersion);
        return endpoints.MapGet(pattern, Ok<ServiceVersion> () => TypedResults.Ok(version))
            .AllowAnonymous()
            .WithName("GetVersion")
            .WithSummary("The service name and build version.");
    }

    private static string BuildVersion =>
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
