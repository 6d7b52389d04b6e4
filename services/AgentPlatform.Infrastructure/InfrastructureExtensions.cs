using AgentPlatform.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Infrastructure;

/// <summary>
/// Composition of the infrastructure ports. Each port picks its adapter from configuration: a connection
/// string present means the real service (distributed topology), none means the embedded adapter.
/// </summary>
public static class InfrastructureExtensions
{
    /// <summary>Every port a service uses: relational store, counters, claim check, event bus.</summary>
    public static IHostApplicationBuilder AddPlatformInfrastructure(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDatabase();
        return builder;
    }

    /// <summary>The background jobs exactly one kind of service runs (the Worker): outbox dispatch, cleanup.</summary>
    public static IHostApplicationBuilder AddPlatformBackgroundProcessing(this IHostApplicationBuilder builder)
    {
        return builder;
    }
}
