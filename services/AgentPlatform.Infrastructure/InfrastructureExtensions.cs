using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Counters;
using AgentPlatform.Infrastructure.Messaging;
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
        builder.AddPlatformCounters();
        builder.AddPlatformClaimCheck();
        builder.AddPlatformEventBus();
        return builder;
    }

    /// <summary>
    /// The background work only the Worker runs: dispatching the outbox to the event bus and deleting expired
    /// claim-check payloads. Both hold a lease, so several Workers share it safely.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformBackgroundProcessing(this IHostApplicationBuilder builder)
    {
        builder.AddOutboxDispatcher();
        builder.AddPayloadCleanup();
        return builder;
    }
}
