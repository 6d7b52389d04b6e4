using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>How hosts compose the bus: mistakes fail at startup, not when the first event arrives.</summary>
public sealed class EventBusRegistrationTests
{
    [Fact]
    public void A_subscription_needs_a_valid_unique_name_and_a_topic()
    {
        var builder = NewBuilder();
        builder.AddEventConsumer<RecordingConsumer>("audit", "agentplatform.tasks");

        Assert.Throws<InvalidOperationException>(() => builder.AddEventConsumer<RecordingConsumer>("audit", "agentplatform.agents"));
        Assert.Throws<ArgumentException>(() => builder.AddEventConsumer<RecordingConsumer>("Audit Indexer", "agentplatform.tasks"));
        Assert.Throws<ArgumentException>(() => builder.AddEventConsumer<RecordingConsumer>("search"));
    }

    [Fact]
    public void The_bus_needs_the_platform_database()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        Assert.Throws<InvalidOperationException>(() => builder.AddPlatformEventBus());
    }

    [Fact]
    public void The_kafka_connection_string_selects_kafka_and_supplies_the_bootstrap_servers()
    {
        var builder = NewBuilder(("ConnectionStrings:kafka", "broker-1:9092,broker-2:9092"), ("Messaging:Kafka:Settings:security.protocol", "SASL_SSL"));
        builder.AddPlatformEventBus();
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<KafkaEventBusOptions>>().Value;
        Assert.Equal("broker-1:9092,broker-2:9092", options.BootstrapServers);
        Assert.Equal(builder.Environment.ApplicationName, options.ClientId);
        Assert.Equal("SASL_SSL", options.Settings["security.protocol"]);
    }

    private static HostApplicationBuilder NewBuilder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "AgentPlatform.Tests" });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddPlatformDatabase();
        return builder;
    }
}
