using System.Text.RegularExpressions;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Messaging;

public static partial class EventBusExtensions
{
    /// <summary>
    /// Registers the event bus behind the outbox: Kafka when the connection string <c>ConnectionStrings:kafka</c>
    /// is present, otherwise the in-process bus, which delivers only to consumers of the process that dispatches
    /// the outbox. Also registers <see cref="DeadLetterService"/>. Needs <c>AddPlatformDatabase()</c> first;
    /// calling it again does nothing.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformEventBus(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(d => d.ServiceType == typeof(IEventTransport)))
        {
            return builder;
        }

        if (!builder.Services.Any(d => d.ServiceType == typeof(AgentPlatformDbContext)))
        {
            throw new InvalidOperationException($"Call {nameof(PersistenceExtensions.AddPlatformDatabase)}() before {nameof(AddPlatformEventBus)}(): the bus is fed by the outbox in the platform database.");
        }

        builder.Services.AddMetrics();
        builder.Services.AddOptions<EventConsumerOptions>().BindConfiguration(EventConsumerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<EventBusTelemetry>();
        builder.Services.TryAddSingleton<EventSubscriptionHandler>();
        builder.Services.TryAddScoped<DeadLetterService>();

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ResourceNames.Kafka)))
        {
            builder.Services.AddOptions<KafkaEventBusOptions>()
                .BindConfiguration(KafkaEventBusOptions.SectionName)
                .Configure<IConfiguration, IHostEnvironment>((options, configuration, environment) =>
                {
                    options.BootstrapServers ??= configuration.GetConnectionString(ResourceNames.Kafka);
                    options.ClientId ??= environment.ApplicationName;
                })
                .ValidateDataAnnotations()
                .ValidateOnStart();
            builder.Services.AddSingleton<IEventTransport, KafkaEventTransport>();
        }
        else
        {
            builder.Services.AddSingleton<IEventTransport, InProcessEventTransport>();
        }

        return builder;
    }

    /// <summary>
    /// Runs the <see cref="OutboxDispatcher"/> in this process (the Worker). Several instances may run it: a
    /// lease lets one dispatch at a time. Calls <see cref="AddPlatformEventBus"/>.
    /// </summary>
    public static IHostApplicationBuilder AddOutboxDispatcher(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformEventBus();
        builder.Services.AddOptions<OutboxDispatcherOptions>().BindConfiguration(OutboxDispatcherOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(services => new OutboxDispatcher(
            services.GetRequiredService<IServiceScopeFactory>(),
            services.GetRequiredService<IEventTransport>(),
            services.GetRequiredService<DistributedLeaseManager>(),
            services.GetRequiredService<IOptions<OutboxDispatcherOptions>>(),
            services.GetRequiredService<EventBusTelemetry>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILogger<OutboxDispatcher>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<OutboxDispatcher>());
        return builder;
    }

    /// <summary>
    /// Subscribes <typeparamref name="TConsumer"/> (scoped; one instance per event) to <paramref name="topics"/>
    /// as the subscription <paramref name="subscription"/>: a consumer group, so each event reaches one instance
    /// of the subscription, at least once. Calls <see cref="AddPlatformEventBus"/>.
    /// </summary>
    /// <param name="subscription">Unique per process and stable across releases: it is the Kafka group id.</param>
    public static IHostApplicationBuilder AddEventConsumer<TConsumer>(this IHostApplicationBuilder builder, string subscription, params string[] topics)
        where TConsumer : class, IEventConsumer
    {
        if (!SubscriptionPattern().IsMatch(subscription))
        {
            throw new ArgumentException($"'{subscription}' is not a valid subscription name: use 1-200 lowercase letters, digits, '.', '_' or '-'.", nameof(subscription));
        }

        if (topics.Length == 0 || topics.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("A subscription needs at least one topic.", nameof(topics));
        }

        if (builder.Services.Any(d => d.ServiceType == typeof(EventSubscription) && ((EventSubscription)d.ImplementationInstance!).Name == subscription))
        {
            throw new InvalidOperationException($"The subscription '{subscription}' is registered already.");
        }

        builder.AddPlatformEventBus();
        builder.Services.AddSingleton(new EventSubscription(subscription, [.. topics.Distinct(StringComparer.Ordinal)]));
        builder.Services.AddKeyedScoped<IEventConsumer, TConsumer>(subscription);
        builder.Services.AddHostedService<EventConsumerHost>();
        return builder;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,199}$", RegexOptions.CultureInvariant)]
    private static partial Regex SubscriptionPattern();
}
