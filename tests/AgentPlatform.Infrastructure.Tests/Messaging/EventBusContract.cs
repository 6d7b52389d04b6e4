using System.Diagnostics;
using System.Text;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>
/// The event bus contract, run against the in-process bus and Kafka alike: outbox to bus to consumer, bus
/// outages, ordering, dead letters and replay. The tests of a class share one host (see
/// <see cref="EventBusFixture"/>) and leave its outbox empty.
/// </summary>
public abstract class EventBusContract(EventBusFixture fixture)
{
    protected EventBusFixture Fixture => fixture;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    private PlatformTestHost Host => fixture.Host;

    private EventRecorder Recorder => fixture.Recorder;

    private DateTime Now => fixture.Time.GetUtcNow().UtcDateTime;

    [Fact]
    public async Task A_committed_event_reaches_every_subscription_with_its_fields_and_headers()
    {
        using var operation = new Activity("place-order").SetIdFormat(ActivityIdFormat.W3C).Start();
        EventEnvelope placed, noted;
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            placed = db.AddEvent(fixture.Topic, "order.placed.v1", new OrderPlaced("o-1", 42.5m), key: "o-1");
            noted = db.AddEvent(new EventEnvelope
            {
                Id = Guid.NewGuid(),
                Topic = fixture.Topic,
                Type = "order.noted.v1",
                TenantId = "acme",
                OccurredAt = Now.AddMinutes(-1),
                Payload = """{"note":"ünïcödé ✓"}""",
                Headers = new Dictionary<string, string> { ["x-custom"] = "value", [EventHeaders.TraceParent] = operation.Id! },
            });
            await db.SaveChangesAsync(Ct);
        }

        operation.Stop();
        Assert.Equal(Now, placed.OccurredAt);
        Assert.Equal("acme", placed.TenantId);
        Assert.Equal("""{"orderId":"o-1","amount":42.5}""", placed.Payload);
        Assert.Equal(operation.Id, placed.Headers[EventHeaders.TraceParent]);

        await DispatchAsync();

        foreach (var subscription in new[] { fixture.Primary, fixture.Secondary })
        {
            foreach (var sent in new[] { placed, noted })
            {
                var received = await Recorder.WaitForHandledAsync(subscription, sent.Id);
                AssertSameEvent(sent, received.Envelope);
                // The consumer's span continues the producer's trace.
                Assert.Equal(operation.TraceId, received.TraceId);
            }
        }

        Assert.Equal(Now, (await FindOutboxMessageAsync(placed.Id))!.DispatchedAt);
    }

    [Fact]
    public async Task A_rolled_back_transaction_publishes_nothing()
    {
        var key = NewKey();
        EventEnvelope rolledBack;
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(Ct);
            rolledBack = db.AddEvent(fixture.Topic, "order.cancelled.v1", new { OrderId = key }, key);
            await db.SaveChangesAsync(Ct);
            await transaction.RollbackAsync(Ct);
        }

        var committed = await EnqueueAsync("acme", key);
        await DispatchAsync();

        // Same key, so had the rolled-back event been published, it would have arrived first.
        await Recorder.WaitForHandledAsync(fixture.Primary, committed.Id);
        await Recorder.WaitForHandledAsync(fixture.Secondary, committed.Id);
        Assert.Empty(Recorder.Attempts(fixture.Primary, rolledBack.Id));
        Assert.Empty(Recorder.Attempts(fixture.Secondary, rolledBack.Id));
        Assert.Null(await FindOutboxMessageAsync(rolledBack.Id));
    }

    [Fact]
    public async Task An_event_waits_out_a_bus_outage_in_the_outbox_and_is_delivered_once_the_bus_is_back()
    {
        await DispatchAsync();
        var sent = await EnqueueAsync("acme", NewKey());

        await using (var busDown = await fixture.CreateHostAsync(fixture.BusDownConfiguration, start: false))
        {
            Assert.Equal(0, await DispatchAsync(busDown));
        }

        var failed = await FindOutboxMessageAsync(sent.Id);
        Assert.Null(failed!.DispatchedAt);
        Assert.Equal(1, failed.Attempts);
        Assert.False(string.IsNullOrWhiteSpace(failed.LastError));
        Assert.Equal(Now.AddSeconds(1), failed.NextAttemptAt);

        // The bus is back, but the event keeps its retry time.
        Assert.Equal(0, await DispatchAsync());
        Assert.Null((await FindOutboxMessageAsync(sent.Id))!.DispatchedAt);

        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await DispatchAsync());
        await Recorder.WaitForHandledAsync(fixture.Primary, sent.Id);
        await Recorder.WaitForHandledAsync(fixture.Secondary, sent.Id);
        var dispatched = await FindOutboxMessageAsync(sent.Id);
        Assert.Equal(Now, dispatched!.DispatchedAt);
        Assert.Null(dispatched.NextAttemptAt);
    }

    [Fact]
    public async Task Events_with_the_same_key_arrive_in_the_order_they_were_committed()
    {
        var key = NewKey();
        var otherKey = NewKey();
        var sent = new List<EventEnvelope>();
        for (var step = 0; step < 12; step++)
        {
            sent.Add(await EnqueueAsync("acme", key));
            if (step % 3 == 0)
            {
                await EnqueueAsync("acme", otherKey);
            }
        }

        await DispatchAsync();

        foreach (var subscription in new[] { fixture.Primary, fixture.Secondary })
        {
            await Recorder.WaitForHandledAsync(subscription, sent[^1].Id);
            Assert.Equal(sent.Select(e => e.Id), Recorder.Handled(subscription).Where(e => e.Key == key).Select(e => e.Id));
        }
    }

    [Fact]
    public async Task An_event_a_consumer_cannot_handle_is_dead_lettered_and_the_subscription_moves_on()
    {
        var key = NewKey();
        var poison = await EnqueueAsync("acme", key);
        Recorder.FailFor(fixture.Primary, poison.Id);
        var next = await EnqueueAsync("acme", key);
        await DispatchAsync();

        // Same key: the subscription reached the next event only after it was done with the poison.
        await Recorder.WaitForHandledAsync(fixture.Primary, next.Id);
        var attempts = Recorder.Attempts(fixture.Primary, poison.Id);
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, attempt => Assert.False(attempt.Succeeded));
        await Recorder.WaitForHandledAsync(fixture.Secondary, poison.Id);

        var deadLetter = Assert.Single(await FindDeadLettersAsync(poison.Id));
        Assert.Equal("acme", deadLetter.TenantId);
        Assert.Equal(fixture.Primary, deadLetter.Subscription);
        Assert.Equal(fixture.Topic, deadLetter.Topic);
        Assert.Equal(poison.Type, deadLetter.Type);
        Assert.Equal(poison.Key, deadLetter.Key);
        Assert.Equal(poison.Payload, deadLetter.Payload);
        Assert.Equal(poison.OccurredAt, deadLetter.OccurredAt);
        Assert.Equal(3, deadLetter.Attempts);
        Assert.Contains("cannot handle", deadLetter.Error, StringComparison.Ordinal);
        Assert.Equal(Now, deadLetter.FailedAt);
        Assert.Null(deadLetter.ReplayedAt);

        // The dead-letter topic is fed through the outbox like any other.
        await DispatchAsync();
        var published = (await Recorder.WaitForHandledAsync(fixture.DeadLetterObserver, poison.Id)).Envelope;
        AssertSameEvent(poison with
        {
            Topic = EventTopics.DeadLetters,
            Headers = new Dictionary<string, string>(poison.Headers)
            {
                [EventHeaders.DeadLetterTopic] = fixture.Topic,
                [EventHeaders.DeadLetterSubscription] = fixture.Primary,
                [EventHeaders.DeadLetterError] = published.Headers[EventHeaders.DeadLetterError],
            },
        }, published);
        Assert.Contains("cannot handle", published.Headers[EventHeaders.DeadLetterError], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replayed_dead_letter_reaches_only_the_subscription_that_failed()
    {
        var key = NewKey();
        var poison = await EnqueueAsync("acme", key);
        Recorder.FailFor(fixture.Primary, poison.Id);
        var first = await EnqueueAsync("acme", key);
        await DispatchAsync();
        await Recorder.WaitForHandledAsync(fixture.Primary, first.Id);
        await Recorder.WaitForHandledAsync(fixture.Secondary, first.Id);

        DeadLetter listed;
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var page = await scope.ServiceProvider.GetRequiredService<DeadLetterService>().ListAsync(new DeadLetterQuery { Subscription = fixture.Primary, Replayed = false }, Ct);
            listed = Assert.Single(page.Items, d => d.EventId == poison.Id);
        }

        await using (var scope = Host.CreateTenantScope("globex"))
        {
            var otherTenant = scope.ServiceProvider.GetRequiredService<DeadLetterService>();
            Assert.Null(await otherTenant.ReplayAsync(listed.Id, Ct));
            Assert.DoesNotContain((await otherTenant.ListAsync(new DeadLetterQuery(), Ct)).Items, d => d.Id == listed.Id);
        }

        // Replayed while the consumer still fails: dead-lettered again, into the same record.
        Assert.Equal(1, (await ReplayAsync("acme", listed.Id)).ReplayCount);
        var second = await EnqueueAsync("acme", key);
        await DispatchAsync();
        await Recorder.WaitForHandledAsync(fixture.Primary, second.Id);
        Assert.Equal(6, Recorder.Attempts(fixture.Primary, poison.Id).Count);
        var again = Assert.Single(await FindDeadLettersAsync(poison.Id));
        Assert.Equal(6, again.Attempts);
        Assert.Equal(1, again.ReplayCount);

        // Fixed: the replay is handled by the failed subscription, and every other one skips it.
        Recorder.Heal(fixture.Primary, poison.Id);
        var replayed = await ReplayAsync("acme", listed.Id);
        Assert.Equal(2, replayed.ReplayCount);
        Assert.Equal(Now, replayed.ReplayedAt);
        var third = await EnqueueAsync("acme", key);
        await DispatchAsync();

        var handled = (await Recorder.WaitForHandledAsync(fixture.Primary, poison.Id)).Envelope;
        AssertSameEvent(poison with { Headers = new Dictionary<string, string>(poison.Headers) { [EventHeaders.TargetSubscription] = fixture.Primary } }, handled);
        await Recorder.WaitForHandledAsync(fixture.Secondary, third.Id);
        Assert.Single(Recorder.Attempts(fixture.Secondary, poison.Id));
        await Recorder.WaitForHandledAsync(fixture.Primary, third.Id);
    }

    [Fact]
    public async Task A_consumer_acts_for_the_tenant_of_the_event()
    {
        var acme = await EnqueueAsync("acme", NewKey());
        var globex = await EnqueueAsync("globex", NewKey());
        await DispatchAsync();

        foreach (var sent in new[] { acme, globex })
        {
            var attempt = await Recorder.WaitForHandledAsync(fixture.Primary, sent.Id);
            Assert.Equal(sent.TenantId, attempt.ScopeTenant);
        }
    }

    protected Task<int> DispatchAsync(PlatformTestHost? host = null) =>
        (host ?? Host).Services.GetRequiredService<OutboxDispatcher>().DispatchPendingAsync(Ct);

    protected async Task<EventEnvelope> EnqueueAsync(string tenantId, string key)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var envelope = db.AddEvent(fixture.Topic, "order.placed.v1", new OrderPlaced(key, 1m), key);
        await db.SaveChangesAsync(Ct);
        return envelope;
    }

    private static string NewKey() => $"order-{Guid.NewGuid():N}";

    private static void AssertSameEvent(EventEnvelope expected, EventEnvelope actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Topic, actual.Topic);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.OccurredAt, actual.OccurredAt);
        Assert.Equal(DateTimeKind.Utc, actual.OccurredAt.Kind);
        Assert.Equal(expected.Payload, actual.Payload);
        Assert.Equal(expected.Headers.OrderBy(h => h.Key), actual.Headers.OrderBy(h => h.Key));
    }

    private async Task<DeadLetter> ReplayAsync(string tenantId, Guid deadLetterId)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        var replayed = await scope.ServiceProvider.GetRequiredService<DeadLetterService>().ReplayAsync(deadLetterId, Ct);
        return replayed ?? throw new InvalidOperationException($"Dead letter {deadLetterId} not found.");
    }

    protected async Task<OutboxMessage?> FindOutboxMessageAsync(Guid eventId)
    {
        await using var scope = Host.CreateSystemScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().OutboxMessages
            .IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(m => m.EventId == eventId, Ct);
    }

    private async Task<List<DeadLetter>> FindDeadLettersAsync(Guid eventId)
    {
        await using var scope = Host.CreateSystemScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().DeadLetters
            .IgnoreQueryFilters().AsNoTracking().Where(d => d.EventId == eventId).ToListAsync(Ct);
    }

    private sealed record OrderPlaced(string OrderId, decimal Amount);
}

public sealed class InProcessEventBusTests(InProcessEventBusFixture fixture) : EventBusContract(fixture), IClassFixture<InProcessEventBusFixture>
{
    [Fact]
    public async Task An_event_whose_handling_is_cut_short_by_a_shutdown_stays_in_the_outbox()
    {
        var sent = await EnqueueAsync("acme", "order-cut-short");
        Fixture.Recorder.HoldFor(Fixture.Primary, sent.Id);
        await using (var worker = await Fixture.CreateHostAsync(new Dictionary<string, string?>(), start: true))
        {
            var dispatch = worker.Services.GetRequiredService<OutboxDispatcher>().DispatchPendingAsync(Ct);
            await Fixture.Recorder.WaitForAttemptsAsync(Fixture.Primary, sent.Id, 1);

            // The consumers stop while the event is in a handler: the publish must not count as done.
            foreach (var service in worker.Services.GetServices<IHostedService>().Where(s => s is not OutboxDispatcher))
            {
                await service.StopAsync(Ct);
            }

            Assert.Equal(0, await dispatch);
        }

        var kept = await FindOutboxMessageAsync(sent.Id);
        Assert.Null(kept!.DispatchedAt);
        Assert.Equal(1, kept.Attempts);

        Fixture.Recorder.Release(Fixture.Primary, sent.Id);
        Fixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await DispatchAsync());
        // No waiting: an in-process publish returns once every subscription has finished with the event.
        Assert.True(Fixture.Recorder.Attempts(Fixture.Primary, sent.Id)[^1].Succeeded);
    }
}

[Trait("Category", "Infrastructure")]
public sealed class KafkaEventBusTests(KafkaEventBusFixture fixture) : EventBusContract(fixture), IClassFixture<KafkaEventBusFixture>
{
    [Fact]
    public async Task An_event_is_a_kafka_message_keyed_by_its_partition_key_with_the_envelope_in_headers()
    {
        var sent = await EnqueueAsync("acme", "order-on-the-wire");
        Assert.Equal(1, await DispatchAsync());

        // Read the topic directly: assigned partitions, no consumer group to join.
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = fixture.BootstrapServers,
            GroupId = $"wire-reader-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(fixture.Topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(fixture.Topic, p.PartitionId, Offset.Beginning)));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        Message<string, byte[]> message;
        do
        {
            message = consumer.Consume(timeout.Token).Message;
        }
        while (Header(message, "ap-event-id") != sent.Id.ToString());

        Assert.Equal("order-on-the-wire", message.Key);
        Assert.Equal(sent.Payload, Encoding.UTF8.GetString(message.Value));
        Assert.Equal(sent.Type, Header(message, "ap-event-type"));
        Assert.Equal("acme", Header(message, "ap-tenant-id"));
        consumer.Close();
    }

    private static string? Header(Message<string, byte[]> message, string name) =>
        message.Headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;
}
