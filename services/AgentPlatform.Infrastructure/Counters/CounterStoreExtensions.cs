using AgentPlatform.Domain.Counters;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace AgentPlatform.Infrastructure.Counters;

public static class CounterStoreExtensions
{
    /// <summary>
    /// Registers <see cref="ICounterStore"/>: Redis when the connection string <c>ConnectionStrings:redis</c> is
    /// present (with Aspire's client: health check and tracing), otherwise counters in this process.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformCounters(this IHostApplicationBuilder builder)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ResourceNames.Redis)))
        {
            // Other features (caching) may have added the shared client already; a second one would register
            // a duplicate health check.
            if (!builder.Services.Any(service => service.ServiceType == typeof(IConnectionMultiplexer) && !service.IsKeyedService))
            {
                builder.AddRedisClient(ResourceNames.Redis);
            }

            builder.Services.TryAddSingleton<ICounterStore, RedisCounterStore>();
        }
        else
        {
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.TryAddSingleton<ICounterStore, InMemoryCounterStore>();
        }

        return builder;
    }
}
