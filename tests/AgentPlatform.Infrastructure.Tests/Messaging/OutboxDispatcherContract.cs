using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>
/// The dispatcher's own rules over the in-process bus, against SQLite and PostgreSQL alike: schedule, backoff,
/// lease, batches, purge.
/// </summary>
public abstract class OutboxDispatcherContract : DatabaseTest
{
    private const string Topic = "agentplatform.test.dispatcher";
    private const string Subscription = "dispatcher-test";

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly EventRecorder recorder = new();
    private DateTime Now => time.GetUtcNow().UtcDateTime;

    [Fact]
    public async Task The_hosted_dispatcher_publishes_new_events_by_itself()
    {
        var host = await CreateDispatcherHostAsync(start: true, withConsumer: true, ("Messaging:Outbox:PollInterval", "00:00:00.050"));
        var sent = await EnqueueAsync(host, "order-1");

        await recorder.WaitForHandledAsync(Subscription, sent);
    }

    [Fact]
    public async Task A_failed_publish_backs_off_exponentially_up_to_the_limit_and_nothing_overtakes_it()
    {
        // Not started: its subscription does not run, so the in-process bus refuses to publish.
        var host = await CreateDispatcherHostAsync(start: false, withConsumer: true, ("Messaging:Outbox:MaxRetryDelay", "00:00:03"));
        var first = await EnqueueAsync(host, "order-1");
        var second = await EnqueueAsync(host, "order-2");
        var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();

        foreach (var (attempt, delay) in new[] { (1, 1), (2, 2), (3, 3) })
        {
            Assert.Equal(0, await dispatcher.DispatchPendingAsync(Ct));
            var failed = await FindAsync(host, first);
            Assert.Equal(attempt, failed.Attempts);
            Assert.Equal(Now.AddSeconds(delay), failed.NextAttemptAt);
            Assert.Contains("not running", failed.LastError, StringComparison.Ordinal);

            // Not due yet: another pass does not even try.
            Assert.Equal(0, await dispatcher.DispatchPendingAsync(Ct));
            Assert.Equal(attempt, (await FindAsync(host, first)).Attempts);
            time.Advance(TimeSpan.FromSeconds(delay));
        }

        var waiting = await FindAsync(host, second);
        Assert.Equal(0, waiting.Attempts);
        Assert.Null(waiting.DispatchedAt);
    }

    [Fact]
    public async Task Nothing_is_dispatched_while_another_instance_holds_the_lease()
    {
        var host = await CreateDispatcherHostAsync(start: true, withConsumer: false);
        var sent = await EnqueueAsync(host, "order-1");
        var leases = host.Services.GetRequiredService<DistributedLeaseManager>();
        Assert.True(await leases.TryAcquireAsync(OutboxDispatcher.LeaseName, "another-instance", TimeSpan.FromMinutes(1), Ct));
        var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();

        Assert.Equal(0, await dispatcher.DispatchPendingAsync(Ct));
        Assert.Null((await FindAsync(host, sent)).DispatchedAt);

        // The other instance died: its lease expires and this one takes over.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await dispatcher.DispatchPendingAsync(Ct));
        Assert.Equal(Now, (await FindAsync(host, sent)).DispatchedAt);
    }

    [Fact]
    public async Task One_pass_publishes_every_pending_event_batch_after_batch_in_order()
    {
        var host = await CreateDispatcherHostAsync(start: true, withConsumer: true, ("Messaging:Outbox:BatchSize", "2"));
        var sent = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            sent.Add(await EnqueueAsync(host, "order-1"));
        }

        Assert.Equal(5, await host.Services.GetRequiredService<OutboxDispatcher>().DispatchPendingAsync(Ct));
        Assert.Equal(sent, recorder.Handled(Subscription).Select(e => e.Id));
    }

    [Fact]
    public async Task Dispatched_events_are_purged_after_the_retention_period_and_pending_ones_never()
    {
        var host = await CreateDispatcherHostAsync(start: true, withConsumer: false, ("Messaging:Outbox:Retention", "1.00:00:00"));
        var dispatcher = host.Services.GetRequiredService<OutboxDispatcher>();
        var dispatched = await EnqueueAsync(host, "order-1");
        Assert.Equal(1, await dispatcher.DispatchPendingAsync(Ct));
        var pending = await EnqueueAsync(host, "order-2");

        Assert.Equal(0, await dispatcher.PurgeDispatchedAsync(Ct));
        time.Advance(TimeSpan.FromDays(1).Add(TimeSpan.FromSeconds(1)));

        Assert.Equal(1, await dispatcher.PurgeDispatchedAsync(Ct));
        Assert.Null(await FindOrDefaultAsync(host, dispatched));
        Assert.NotNull(await FindOrDefaultAsync(host, pending));
    }

    [Fact]
    public async Task Options_that_would_let_the_lease_lapse_during_a_publish_fail_at_startup()
    {
        var host = await CreateDispatcherHostAsync(start: false, withConsumer: false, ("Messaging:Outbox:LeaseDuration", "00:00:30"), ("Messaging:Outbox:PublishTimeout", "00:01:00"));

        var exception = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<OutboxDispatcherOptions>>().Value);
        Assert.Contains(nameof(OutboxDispatcherOptions.LeaseDuration), exception.Message, StringComparison.Ordinal);
    }

    private Task<PlatformTestHost> CreateDispatcherHostAsync(bool start, bool withConsumer, params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?> { ["Messaging:Outbox:PollInterval"] = "1.00:00:00" };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        return CreateHostAsync(builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(time);
            builder.Services.AddSingleton(recorder);
            builder.AddOutboxDispatcher();
            if (withConsumer)
            {
                builder.AddEventConsumer<RecordingConsumer>(Subscription, Topic);
            }
        }, configuration, start);
    }

    private static async Task<Guid> EnqueueAsync(PlatformTestHost host, string key)
    {
        await using var scope = host.CreateTenantScope("acme");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var envelope = db.AddEvent(Topic, "order.placed.v1", new { OrderId = key }, key);
        await db.SaveChangesAsync(Ct);
        return envelope.Id;
    }

    private static async Task<OutboxMessage> FindAsync(PlatformTestHost host, Guid eventId) =>
        await FindOrDefaultAsync(host, eventId) ?? throw new InvalidOperationException($"Event {eventId} is not in the outbox.");

    private static async Task<OutboxMessage?> FindOrDefaultAsync(PlatformTestHost host, Guid eventId)
    {
        await using var scope = host.CreateSystemScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().OutboxMessages
            .IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(m => m.EventId == eventId, Ct);
    }
}

public sealed class SqliteOutboxDispatcherTests : OutboxDispatcherContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresOutboxDispatcherTests : OutboxDispatcherContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
