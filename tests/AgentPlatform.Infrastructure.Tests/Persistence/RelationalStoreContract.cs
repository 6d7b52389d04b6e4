using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentPlatform.Infrastructure.Tests.Persistence;

/// <summary>The relational store's contract, run against SQLite and PostgreSQL alike.</summary>
public abstract class RelationalStoreContract : DatabaseTest
{
    private PlatformTestHost? host;

    protected PlatformTestHost Host => host!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        host = await CreateHostAsync();
    }

    [Fact]
    public async Task Migrations_leave_nothing_pending_and_the_store_reports_healthy()
    {
        await using var scope = Host.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync(TestContext.Current.CancellationToken));

        var health = await Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, health.Entries["database"].Status);
    }

    [Fact]
    public async Task Migrating_again_is_a_no_op()
    {
        await Host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(TestContext.Current.CancellationToken);
        await using var scope = Host.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Every_tenant_owned_table_has_a_tenant_id_column_and_a_tenant_filter()
    {
        await using var scope = Host.CreateSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var tenantOwned = db.Model.GetEntityTypes().Where(t => typeof(ITenantOwned).IsAssignableFrom(t.ClrType)).ToList();

        Assert.NotEmpty(tenantOwned);
        Assert.All(tenantOwned, entity =>
        {
            Assert.Equal("tenant_id", entity.FindProperty(nameof(ITenantOwned.TenantId))!.GetColumnName());
            Assert.Contains(entity.GetDeclaredQueryFilters(), filter => filter.Key == AgentPlatformDbContext.TenantFilter);
        });
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_rows()
    {
        await SeedPayloadAsync("acme", "ref_acme");
        await SeedPayloadAsync("globex", "ref_globex");

        await using (var acme = Host.CreateTenantScope("acme"))
        {
            var ids = await acme.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadRecords.Select(r => r.Id).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(["ref_acme"], ids);
        }

        await using (var globex = Host.CreateTenantScope("globex"))
        {
            var db = globex.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            Assert.Null(await db.PayloadRecords.FindAsync(["ref_acme"], TestContext.Current.CancellationToken));
            Assert.Null(await db.PayloadRecords.FirstOrDefaultAsync(r => r.Id == "ref_acme", TestContext.Current.CancellationToken));
            Assert.Equal(0, await db.PayloadRecords.Where(r => r.Id == "ref_acme").ExecuteDeleteAsync(TestContext.Current.CancellationToken));
        }

        await using (var anonymous = Host.CreateAnonymousScope())
        {
            Assert.Equal(0, await anonymous.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadRecords.CountAsync(TestContext.Current.CancellationToken));
        }

        await using (var system = Host.CreateSystemScope())
        {
            var db = system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            Assert.Equal(0, await db.PayloadRecords.CountAsync(TestContext.Current.CancellationToken));
            Assert.Equal(2, await db.PayloadRecords.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]).CountAsync(TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_new_row_takes_the_current_tenant()
    {
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.PayloadRecords.Add(NewRecord(tenantId: "", id: "ref_stamped"));
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using var system = Host.CreateSystemScope();
        var stored = await system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadRecords
            .IgnoreQueryFilters().SingleAsync(r => r.Id == "ref_stamped", TestContext.Current.CancellationToken);
        Assert.Equal("acme", stored.TenantId);
    }

    [Fact]
    public async Task Writing_another_tenants_row_fails_and_saves_nothing()
    {
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.PayloadRecords.Add(NewRecord("acme", "ref_own"));
            db.PayloadRecords.Add(NewRecord("globex", "ref_foreign"));
            await Assert.ThrowsAsync<TenantAccessException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(0, await CountAllPayloadRecordsAsync());
    }

    [Fact]
    public async Task Without_a_tenant_nothing_tenant_owned_can_be_written()
    {
        await using (var scope = Host.CreateAnonymousScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.PayloadRecords.Add(NewRecord("acme", "ref_anonymous"));
            await Assert.ThrowsAsync<TenantAccessException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
        }

        await using (var system = Host.CreateSystemScope())
        {
            var db = system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.PayloadRecords.Add(NewRecord("", "ref_no_tenant"));
            await Assert.ThrowsAsync<TenantAccessException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(0, await CountAllPayloadRecordsAsync());
    }

    [Fact]
    public async Task The_tenant_of_a_row_cannot_change()
    {
        await SeedPayloadAsync("acme", "ref_move");
        await using var system = Host.CreateSystemScope();
        var db = system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var record = await db.PayloadRecords.IgnoreQueryFilters().SingleAsync(r => r.Id == "ref_move", TestContext.Current.CancellationToken);
        record.TenantId = "globex";
        await Assert.ThrowsAsync<TenantAccessException>(() => db.SaveChangesAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_outbox_event_commits_and_rolls_back_with_the_change_it_reports()
    {
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(TestContext.Current.CancellationToken);
            db.PayloadRecords.Add(NewRecord("acme", "ref_rolled_back"));
            db.OutboxMessages.Add(OutboxMessage.From(NewEvent("acme")));
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            await transaction.RollbackAsync(TestContext.Current.CancellationToken);
        }

        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.PayloadRecords.Add(NewRecord("acme", "ref_committed"));
            db.OutboxMessages.Add(OutboxMessage.From(NewEvent("acme")));
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using var system = Host.CreateSystemScope();
        var systemDb = system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Equal(["ref_committed"], await systemDb.PayloadRecords.IgnoreQueryFilters().Select(r => r.Id).ToListAsync(TestContext.Current.CancellationToken));
        Assert.Equal(1, await systemDb.OutboxMessages.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Outbox_sequence_follows_insertion_order_and_timestamps_round_trip_as_utc()
    {
        var occurredAt = new DateTime(2026, 11, 25, 12, 30, 45, 123, DateTimeKind.Utc);
        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            for (var i = 0; i < 3; i++)
            {
                db.OutboxMessages.Add(OutboxMessage.From(NewEvent("acme") with { Type = $"test.step{i}.v1", OccurredAt = occurredAt.AddSeconds(i) }));
                await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            }
        }

        await using var system = Host.CreateSystemScope();
        var rows = await system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().OutboxMessages.IgnoreQueryFilters()
            .Where(m => m.OccurredAt >= occurredAt.AddSeconds(1))
            .OrderBy(m => m.Sequence).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["test.step1.v1", "test.step2.v1"], rows.Select(r => r.Type));
        Assert.All(rows, r => Assert.Equal(DateTimeKind.Utc, r.OccurredAt.Kind));
        Assert.Equal(occurredAt.AddSeconds(1), rows[0].OccurredAt);
    }

    [Fact]
    public async Task A_lease_has_one_owner_until_it_expires_or_is_released()
    {
        var leases = Host.Services.GetRequiredService<DistributedLeaseManager>();
        var ct = TestContext.Current.CancellationToken;

        Assert.True(await leases.TryAcquireAsync("job", "a", TimeSpan.FromMinutes(1), ct));
        Assert.False(await leases.TryAcquireAsync("job", "b", TimeSpan.FromMinutes(1), ct));
        Assert.True(await leases.TryAcquireAsync("job", "a", TimeSpan.FromMinutes(1), ct));

        await leases.ReleaseAsync("job", "a", ct);
        Assert.True(await leases.TryAcquireAsync("job", "b", TimeSpan.FromMilliseconds(1), ct));
        await Task.Delay(20, ct);
        Assert.True(await leases.TryAcquireAsync("job", "c", TimeSpan.FromMinutes(1), ct));
    }

    [Fact]
    public async Task Competing_acquirers_get_the_lease_exactly_once()
    {
        var leases = Host.Services.GetRequiredService<DistributedLeaseManager>();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            leases.TryAcquireAsync("contended", $"owner-{i}", TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken)));
        Assert.Equal(1, results.Count(acquired => acquired));
    }

    [Fact]
    public async Task Bulk_inserted_rows_are_stored_exactly_as_SaveChanges_stores_them()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var occurredAt = new DateTime(2026, 11, 26, 10, 15, 30, 123, DateTimeKind.Utc).AddTicks(4560); // PostgreSQL keeps microseconds
        var saved = NewUsage("acme", occurredAt, "saved");
        var bulk = Enumerable.Range(0, 3).Select(i => NewUsage(i == 2 ? "globex" : "acme", occurredAt, $"bulk-{i}")).ToList();
        bulk[1].ApiKeyId = null;
        bulk[1].TaskId = null;
        bulk[1].Attempts = "[{\"error\":\"quotes \\\" and ünïcødé 🙂\"}]";

        await using (var scope = Host.CreateTenantScope("acme"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.ModelUsage.Add(saved);
            await db.SaveChangesAsync(cancellationToken);
        }

        await using (var scope = Host.CreateSystemScope())
        {
            BulkInsert.Insert(scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>(), bulk);
        }

        await using (var acme = Host.CreateTenantScope("acme"))
        {
            var db = acme.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            // Queries that compare stored values (dates, days, Guids) find bulk rows exactly as saved ones.
            var found = await db.ModelUsage.AsNoTracking()
                .Where(u => u.Day == DateOnly.FromDateTime(occurredAt) && u.OccurredAt == occurredAt && u.LatencyMilliseconds > 12.0)
                .OrderBy(u => u.TraceId)
                .ToListAsync(cancellationToken);
            Assert.Equal(["bulk-0", "bulk-1", "saved"], found.Select(u => u.TraceId));
            Assert.NotNull(await db.ModelUsage.FindAsync([bulk[0].Id], cancellationToken));
            foreach (var (expected, actual) in bulk.Take(2).Zip(found.Take(2)))
            {
                Assert.Equivalent(expected, actual, strict: true);
            }
        }

        await using (var globex = Host.CreateTenantScope("globex"))
        {
            var rows = await globex.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().ModelUsage.AsNoTracking().ToListAsync(cancellationToken);
            Assert.Equivalent(bulk[2], Assert.Single(rows), strict: true);
        }
    }

    private static ModelUsageRecord NewUsage(string tenantId, DateTime occurredAt, string traceId) => new()
    {
        Id = Guid.CreateVersion7(),
        TenantId = tenantId,
        OccurredAt = occurredAt,
        Day = DateOnly.FromDateTime(occurredAt),
        Subject = "user-1",
        UserId = "user-1",
        ApiKeyId = Guid.NewGuid().ToString(),
        Operation = "chat",
        ModelRequested = "gpt-test",
        ModelServed = "gpt-test-2026",
        Deployment = "primary",
        Streamed = true,
        AttemptCount = 2,
        Attempts = "[]",
        InputTokens = 1234,
        OutputTokens = 56,
        CachedInputTokens = 7,
        CostMicros = 987_654_321_012,
        LatencyMilliseconds = 12.75,
        Outcome = "ok",
        StatusCode = 200,
        DryRun = false,
        Offline = true,
        TraceId = traceId,
        TaskId = "task-1",
        MainAgentId = "main",
        SubAgentId = "sub",
    };

    private async Task SeedPayloadAsync(string tenantId, string id)
    {
        await using var scope = Host.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        db.PayloadRecords.Add(NewRecord(tenantId, id));
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    private async Task<int> CountAllPayloadRecordsAsync()
    {
        await using var system = Host.CreateSystemScope();
        return await system.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().PayloadRecords.IgnoreQueryFilters().CountAsync(TestContext.Current.CancellationToken);
    }

    private static PayloadRecord NewRecord(string tenantId, string id) => new()
    {
        Id = id,
        TenantId = tenantId,
        BlobId = Guid.NewGuid(),
        Sha256 = new string('a', 64),
        Size = 1,
        ContentType = "text/plain",
        CreatedAt = DateTime.UtcNow,
        ExpiresAt = DateTime.UtcNow.AddHours(1),
    };

    private static EventEnvelope NewEvent(string tenantId) => new()
    {
        Id = Guid.NewGuid(),
        Topic = EventTopics.Platform,
        Type = "test.happened.v1",
        TenantId = tenantId,
        OccurredAt = DateTime.UtcNow,
        Payload = "{}",
    };
}

public sealed class SqliteRelationalStoreTests : RelationalStoreContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresRelationalStoreTests : RelationalStoreContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
