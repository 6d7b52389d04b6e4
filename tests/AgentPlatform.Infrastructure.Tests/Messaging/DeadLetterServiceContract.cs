using System.Text.Json;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>The operator side of dead letters, against SQLite and PostgreSQL alike: listing a tenant's and replaying one.</summary>
public abstract class DeadLetterServiceContract : DatabaseTest
{
    private static readonly DateTime Start = new(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);

    private readonly FakeTimeProvider time = new(new DateTimeOffset(Start.AddHours(1)));
    private PlatformTestHost? host;

    private PlatformTestHost Host => host!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        host = await CreateHostAsync(builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(time);
            builder.AddPlatformEventBus();
        });

        await using var scope = Host.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        db.DeadLetters.AddRange(
            NewDeadLetter("acme", "audit", "agentplatform.tasks", "task.completed.v1", minutes: 1),
            NewDeadLetter("acme", "audit", "agentplatform.tasks", "task.failed.v1", minutes: 2, replayed: true),
            NewDeadLetter("acme", "search", "agentplatform.tasks", "task.completed.v1", minutes: 3),
            NewDeadLetter("acme", "audit", "agentplatform.agents", "agent.published.v1", minutes: 4),
            NewDeadLetter("acme", "search", "agentplatform.agents", "agent.published.v1", minutes: 5),
            NewDeadLetter("globex", "audit", "agentplatform.tasks", "task.completed.v1", minutes: 6));
        await db.SaveChangesAsync(Ct);
    }

    [Fact]
    public async Task A_tenant_lists_its_own_dead_letters_newest_first_filtered_and_paged()
    {
        await using var scope = Host.CreateTenantScope("acme");
        var service = scope.ServiceProvider.GetRequiredService<DeadLetterService>();

        var all = await service.ListAsync(new DeadLetterQuery(), Ct);
        Assert.Equal(5, all.TotalCount);
        Assert.Equal([5, 4, 3, 2, 1], all.Items.Select(Minutes));
        Assert.All(all.Items, d => Assert.Equal("acme", d.TenantId));

        Assert.Equal([4, 2, 1], (await service.ListAsync(new DeadLetterQuery { Subscription = "audit" }, Ct)).Items.Select(Minutes));
        Assert.Equal([3, 2, 1], (await service.ListAsync(new DeadLetterQuery { Topic = "agentplatform.tasks" }, Ct)).Items.Select(Minutes));
        Assert.Equal([3, 1], (await service.ListAsync(new DeadLetterQuery { Type = "task.completed.v1" }, Ct)).Items.Select(Minutes));
        Assert.Equal([2], (await service.ListAsync(new DeadLetterQuery { Replayed = true }, Ct)).Items.Select(Minutes));
        Assert.Equal([5, 4, 3, 1], (await service.ListAsync(new DeadLetterQuery { Replayed = false }, Ct)).Items.Select(Minutes));
        Assert.Equal([3, 2], (await service.ListAsync(new DeadLetterQuery { FailedFrom = Start.AddMinutes(2), FailedBefore = Start.AddMinutes(4) }, Ct)).Items.Select(Minutes));

        var page = await service.ListAsync(new DeadLetterQuery { Skip = 1, Take = 2 }, Ct);
        Assert.Equal(5, page.TotalCount);
        Assert.Equal([4, 3], page.Items.Select(Minutes));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => service.ListAsync(new DeadLetterQuery { Take = DeadLetterQuery.MaxTake + 1 }, Ct));
    }

    [Fact]
    public async Task A_replay_queues_the_original_event_for_the_failed_subscription_in_the_same_transaction()
    {
        DeadLetter original;
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var service = scope.ServiceProvider.GetRequiredService<DeadLetterService>();
            original = (await service.ListAsync(new DeadLetterQuery { Subscription = "search", Topic = "agentplatform.tasks" }, Ct)).Items.Single();

            var replayed = await service.ReplayAsync(original.Id, Ct);

            Assert.NotNull(replayed);
            Assert.Equal(time.GetUtcNow().UtcDateTime, replayed.ReplayedAt);
            Assert.Equal(1, replayed.ReplayCount);
            Assert.Null(await service.ReplayAsync(Guid.NewGuid(), Ct));
        }

        await using var system = Host.CreateSystemScope();
        // Besides the replayed event, the outbox holds the replay's own audit event.
        var queued = Assert.Single(await system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().OutboxMessages.IgnoreQueryFilters()
            .Where(m => m.Topic == original.Topic).ToListAsync(Ct));
        Assert.Equal(("acme", original.Topic, original.Type, original.Key, original.Payload, original.OccurredAt),
            (queued.TenantId, queued.Topic, queued.Type, queued.Key, queued.Payload, queued.OccurredAt));
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(queued.Headers)!;
        Assert.Equal("search", headers[EventHeaders.TargetSubscription]);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", headers[EventHeaders.TraceParent]);
        Assert.Null(queued.DispatchedAt);
    }

    [Fact]
    public async Task Without_a_tenant_dead_letters_can_be_neither_listed_nor_replayed()
    {
        await using var scope = Host.CreateAnonymousScope();
        var service = scope.ServiceProvider.GetRequiredService<DeadLetterService>();

        await Assert.ThrowsAsync<TenantAccessException>(() => service.ListAsync(new DeadLetterQuery(), Ct));
        await Assert.ThrowsAsync<TenantAccessException>(() => service.ReplayAsync(Guid.NewGuid(), Ct));
    }

    private static int Minutes(DeadLetter deadLetter) => (int)(deadLetter.FailedAt - Start).TotalMinutes;

    private static DeadLetter NewDeadLetter(string tenantId, string subscription, string topic, string type, int minutes, bool replayed = false) => new()
    {
        Id = Guid.CreateVersion7(),
        TenantId = tenantId,
        EventId = Guid.NewGuid(),
        Topic = topic,
        Type = type,
        Subscription = subscription,
        Key = $"key-{minutes}",
        OccurredAt = Start,
        Payload = $$"""{"minutes":{{minutes}}}""",
        Headers = $$"""{"{{EventHeaders.TraceParent}}":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""",
        Attempts = 3,
        Error = "System.InvalidOperationException: boom",
        FailedAt = Start.AddMinutes(minutes),
        ReplayedAt = replayed ? Start.AddMinutes(minutes + 1) : null,
        ReplayCount = replayed ? 1 : 0,
    };
}

public sealed class SqliteDeadLetterServiceTests : DeadLetterServiceContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresDeadLetterServiceTests : DeadLetterServiceContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
