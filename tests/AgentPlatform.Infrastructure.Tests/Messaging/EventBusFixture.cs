using System.Diagnostics;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Testing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>
/// One started platform host per bus, shared by a contract class: three subscriptions on a topic of its own
/// (two on the test topic, one on the dead-letter topic), a SQLite database and a fake clock. Tests isolate
/// themselves by event ids and keys. Names carry a per-run suffix, so a real Kafka cluster holds no old offsets.
/// </summary>
public abstract class EventBusFixture : IAsyncLifetime
{
    private readonly string run = Guid.NewGuid().ToString("N")[..8];
    private readonly ActivityListener listener = new()
    {
        ShouldListenTo = source => source.Name == "AgentPlatform.Messaging",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private IReadOnlyDictionary<string, string?> busConfiguration = new Dictionary<string, string?>();
    private TestDatabase? database;
    private PlatformTestHost? host;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public EventRecorder Recorder { get; } = new();

    public string Topic => $"agentplatform.test-{run}.orders";

    /// <summary>The subscription tests make fail.</summary>
    public string Primary => $"audit-{run}";

    public string Secondary => $"search-{run}";

    public string DeadLetterObserver => $"dead-letters-{run}";

    public PlatformTestHost Host => host ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Configuration that points a host at a bus that is down.</summary>
    public abstract IReadOnlyDictionary<string, string?> BusDownConfiguration { get; }

    public async ValueTask InitializeAsync()
    {
        ActivitySource.AddActivityListener(listener);
        busConfiguration = await StartBusAsync();
        database = TestDatabase.CreateSqlite();
        host = await CreateHostAsync(busConfiguration, start: true);
    }

    /// <summary>Another host over the same database and clock, e.g. one whose bus is down.</summary>
    public Task<PlatformTestHost> CreateHostAsync(IReadOnlyDictionary<string, string?> bus, bool start)
    {
        var configuration = new Dictionary<string, string?>(bus)
        {
            // Tests dispatch explicitly, pass by pass.
            ["Messaging:Outbox:PollInterval"] = "1.00:00:00",
            ["Messaging:Consumers:RetryDelay"] = "00:00:00.010",
        };
        return PlatformTestHost.CreateAsync(database!, builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(Time);
            builder.Services.AddSingleton(Recorder);
            builder.AddOutboxDispatcher();
            builder.AddEventConsumer<RecordingConsumer>(Primary, Topic);
            builder.AddEventConsumer<RecordingConsumer>(Secondary, Topic);
            builder.AddEventConsumer<RecordingConsumer>(DeadLetterObserver, EventTopics.DeadLetters);
        }, configuration, start);
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        if (database is not null)
        {
            await database.DisposeAsync();
        }

        StopBus();
        listener.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the bus and returns the configuration that selects it.</summary>
    protected abstract ValueTask<IReadOnlyDictionary<string, string?>> StartBusAsync();

    protected virtual void StopBus()
    {
    }
}

public sealed class InProcessEventBusFixture : EventBusFixture
{
    // A host that has not started runs no subscriptions, so the in-process bus refuses every publish.
    public override IReadOnlyDictionary<string, string?> BusDownConfiguration { get; } = new Dictionary<string, string?>();

    protected override ValueTask<IReadOnlyDictionary<string, string?>> StartBusAsync() =>
        ValueTask.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());
}

/// <summary>
/// Kafka: the cluster of <see cref="TestInfrastructure.Kafka"/> when set, otherwise librdkafka's mock cluster,
/// which speaks the real protocol in-process and so is always available.
/// </summary>
public sealed class KafkaEventBusFixture : EventBusFixture
{
    private IProducer<Null, Null>? mockCluster;

    public string BootstrapServers { get; private set; } = "";

    // Nothing listens on port 1; a short message timeout makes the failure quick.
    public override IReadOnlyDictionary<string, string?> BusDownConfiguration { get; } = new Dictionary<string, string?>
    {
        ["ConnectionStrings:kafka"] = "127.0.0.1:1",
        ["Messaging:Kafka:MessageTimeout"] = "00:00:01",
    };

    protected override ValueTask<IReadOnlyDictionary<string, string?>> StartBusAsync()
    {
        BootstrapServers = TestInfrastructure.Kafka ?? StartMockCluster();
        return ValueTask.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = BootstrapServers,
        });
    }

    protected override void StopBus() => mockCluster?.Dispose();

    private string StartMockCluster()
    {
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", "3");
        mockCluster = new ProducerBuilder<Null, Null>(config).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(mockCluster.Handle).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        return string.Join(',', metadata.Brokers.Select(broker => $"{broker.Host}:{broker.Port}"));
    }
}
