using AgentPlatform.Domain.Models;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Testing;

namespace AgentPlatform.ModelGateway.Tests.Governance;

/// <summary>Budgets: reserved at the worst case before the call, settled to the real cost after.</summary>
public abstract class BudgetContract : GovernanceTest
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await StartAsync();
    }

    [Fact]
    public async Task A_call_that_does_not_fit_the_remaining_budget_is_refused_before_it_is_sent()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 1_500);

        await using var first = await AdmitAsync(Request());
        Assert.Equal(CallCost, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        var refusal = await RefuseAsync(Request());

        Assert.Equal(429, refusal.StatusCode);
        Assert.Equal("insufficient_quota", refusal.Type);
        Assert.Equal("budget_exceeded", refusal.Code);
        Assert.Contains("daily budget of the tenant", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("2026-11-27T00:00:00Z", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero) - Clock.GetUtcNow(), refusal.RetryAfter);
        // The refused call reserved nothing.
        Assert.Equal(CallCost, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        var refused = Assert.Single(await UsageAsync(), u => u.Outcome == ModelOutcomes.BudgetExceeded);
        Assert.Equal(429, refused.StatusCode);
        Assert.Equal(0, refused.CostMicros);
        Assert.Equal("task-1", refused.TaskId);
    }

    [Fact]
    public async Task A_call_larger_than_the_whole_budget_is_refused_without_a_retry_time()
    {
        await AddBudgetAsync(ModelBudgetKeys.ApiKeyScope, "key-1", ModelBudgetKeys.Monthly, 999);

        var refusal = await RefuseAsync(Request());

        Assert.Equal("budget_exceeded", refusal.Code);
        Assert.Contains("more than the whole monthly budget", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("API key 'key-1'", refusal.Message, StringComparison.Ordinal);
        Assert.Null(refusal.RetryAfter);
    }

    [Fact]
    public async Task The_stricter_of_the_key_and_the_user_budget_wins()
    {
        await AddBudgetAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Monthly, 5 * CallCost);
        await AddBudgetAsync(ModelBudgetKeys.ApiKeyScope, "key-1", ModelBudgetKeys.Daily, 2 * CallCost);
        var leases = new List<IModelCallLease>();

        // The key allows two calls, although the user could make five.
        leases.Add(await AdmitAsync(Request(apiKeyId: "key-1")));
        leases.Add(await AdmitAsync(Request(apiKeyId: "key-1")));
        var byKey = await RefuseAsync(Request(apiKeyId: "key-1"));
        Assert.Contains("daily budget of the API key 'key-1'", byKey.Message, StringComparison.Ordinal);

        // Another key of the same user has no budget of its own: the user's is what is left.
        for (var i = 0; i < 3; i++)
        {
            leases.Add(await AdmitAsync(Request(apiKeyId: "key-2")));
        }

        var byUser = await RefuseAsync(Request(apiKeyId: "key-2"));
        Assert.Contains("monthly budget of the user 'user-1'", byUser.Message, StringComparison.Ordinal);
        Assert.Equal(5 * CallCost, await SpentAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Monthly));
        Assert.Equal(2 * CallCost, await SpentAsync(ModelBudgetKeys.ApiKeyScope, "key-1", ModelBudgetKeys.Daily));

        // A refusal by the user's budget gives back what the key's had already reserved.
        await AddBudgetAsync(ModelBudgetKeys.ApiKeyScope, "key-3", ModelBudgetKeys.Daily, 10 * CallCost);
        await RefuseAsync(Request(apiKeyId: "key-3"));
        Assert.Equal(0, await SpentAsync(ModelBudgetKeys.ApiKeyScope, "key-3", ModelBudgetKeys.Daily));

        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_daily_budget_resets_at_midnight_utc()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, CallCost);
        await using (var lease = await AdmitAsync(Request()))
        {
            await lease.CompleteAsync(Result(100, 450), Ct);
        }

        var refusal = await RefuseAsync(Request());
        Clock.Advance(refusal.RetryAfter!.Value - TimeSpan.FromSeconds(1));
        await RefuseAsync(Request());

        Clock.Advance(TimeSpan.FromSeconds(1));

        await using var nextDay = await AdmitAsync(Request());
        Assert.Equal(CallCost, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
    }

    [Fact]
    public async Task Concurrent_callers_never_overspend_a_budget()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Monthly, 10 * CallCost);

        var admissions = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(
            async () => await Governance.AdmitAsync(Request(userId: $"user-{i}", apiKeyId: $"key-{i}"), Ct),
            Ct)));

        Assert.Equal(10, admissions.Count(a => a.Admitted));
        Assert.All(admissions.Where(a => !a.Admitted), a => Assert.Equal("budget_exceeded", a.Refusal!.Code));
        Assert.Equal(10 * CallCost, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Monthly));

        await Task.WhenAll(admissions.Where(a => a.Admitted).Select(a => Task.Run(
            async () => await a.Lease!.CompleteAsync(Result(100, 200), CancellationToken.None),
            Ct)));

        // Settled to the real cost: 100 + 2 × 200 each.
        Assert.Equal(10 * 500, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Monthly));
        Assert.Equal(40, (await UsageAsync()).Count(u => u.Outcome == ModelOutcomes.BudgetExceeded));
    }

    [Fact]
    public async Task Settling_to_the_real_cost_frees_room_for_the_next_call()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 2_500);
        var first = await AdmitAsync(Request());
        await using var second = await AdmitAsync(Request());
        await RefuseAsync(Request());

        // 60 input (20 of them cached) and 20 output: 40 × 1 + 20 × 0.5 + 20 × 2 = 90.
        await first.CompleteAsync(Result(60, 20, cachedInputTokens: 20), Ct);
        await first.DisposeAsync();
        Assert.Equal(CallCost + 90, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        await using var third = await AdmitAsync(Request());
        Assert.Equal((2 * CallCost) + 90, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
    }

    [Fact]
    public async Task A_stream_reserves_more_as_it_grows_and_must_stop_when_the_budget_is_exhausted()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 1_500);
        await using var lease = await AdmitAsync(Request(streamed: true));

        Assert.True(await lease.TryContinueAsync(450, Price, Ct));
        Assert.Equal(CallCost, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        // Past the estimate: a chunk of 1024 tokens does not fit, the exact shortfall does.
        Assert.True(await lease.TryContinueAsync(500, Price, Ct));
        Assert.Equal(1_100, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
        Assert.True(await lease.TryContinueAsync(700, Price, Ct));
        Assert.Equal(1_500, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        Assert.False(await lease.TryContinueAsync(701, Price, Ct));
        Assert.Equal(1_500, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));

        await lease.CompleteAsync(Result(100, 700, outcome: ModelOutcomes.StoppedOutOfBudget), Ct);
        Assert.Equal(1_500, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
        Assert.False(await lease.TryContinueAsync(700, Price, Ct));
        var usage = Assert.Single(await UsageAsync());
        Assert.Equal(ModelOutcomes.StoppedOutOfBudget, usage.Outcome);
        Assert.True(usage.Streamed);
    }

    [Fact]
    public async Task A_long_stream_with_room_reserves_in_chunks()
    {
        await AddBudgetAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Daily, 100_000);
        await using var lease = await AdmitAsync(Request(streamed: true));

        Assert.True(await lease.TryContinueAsync(451, Price, Ct));

        // 100 + 2 × 451 needed; one chunk of 1024 output tokens (2048) reserved on top of the 1000.
        Assert.Equal(CallCost + 2_048, await SpentAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Daily));
        Assert.True(await lease.TryContinueAsync(1_400, Price, Ct));
        Assert.Equal(CallCost + 2_048, await SpentAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Daily));

        await lease.CompleteAsync(Result(100, 1_400), Ct);
        Assert.Equal(2_900, await SpentAsync(ModelBudgetKeys.UserScope, "user-1", ModelBudgetKeys.Daily));
    }

    [Fact]
    public async Task Disposing_without_completing_releases_the_reservation_and_records_a_cancelled_call()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, 10 * CallCost);
        var lease = await AdmitAsync(Request(streamed: true));
        Assert.True(await lease.TryContinueAsync(600, Price, Ct));
        Assert.True(await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily) > CallCost);

        await lease.DisposeAsync();
        await lease.DisposeAsync();

        Assert.Equal(0, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
        var usage = Assert.Single(await UsageAsync());
        Assert.Equal(ModelOutcomes.Cancelled, usage.Outcome);
        Assert.Equal(499, usage.StatusCode);
        Assert.Equal(0, usage.CostMicros);
    }

    [Fact]
    public async Task A_dry_run_is_recorded_but_not_charged()
    {
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily, CallCost / 2);

        await using (var lease = await AdmitAsync(Request(dryRun: true)))
        {
            await lease.CompleteAsync(Result(100, 450) with { Outcome = ModelOutcomes.Mocked }, Ct);
        }

        Assert.Equal(0, await SpentAsync(ModelBudgetKeys.TenantScope, Tenant, ModelBudgetKeys.Daily));
        var usage = Assert.Single(await UsageAsync());
        Assert.True(usage.DryRun);
        Assert.Equal(0, usage.CostMicros);
        Assert.Equal(450, usage.OutputTokens);
        await RefuseAsync(Request());
    }

    [Fact]
    public async Task A_user_id_matches_its_budget_whatever_form_the_token_carries_it_in()
    {
        var userId = Guid.NewGuid();
        await AddBudgetAsync(ModelBudgetKeys.UserScope, userId.ToString(), ModelBudgetKeys.Daily, CallCost);

        await using var lease = await AdmitAsync(Request(userId: userId.ToString("B").ToUpperInvariant()));

        Assert.Equal(CallCost, await SpentAsync(ModelBudgetKeys.UserScope, userId.ToString(), ModelBudgetKeys.Daily));
        await RefuseAsync(Request(userId: userId.ToString("N")));
    }

    [Fact]
    public async Task Budgets_of_other_callers_and_tenants_do_not_apply()
    {
        await AddBudgetAsync(ModelBudgetKeys.UserScope, "user-2", ModelBudgetKeys.Daily, 0);
        await AddBudgetAsync(ModelBudgetKeys.ApiKeyScope, "key-2", ModelBudgetKeys.Daily, 0);
        await AddBudgetAsync(ModelBudgetKeys.TenantScope, "other-tenant", ModelBudgetKeys.Daily, 0);

        await using var lease = await AdmitAsync(Request(userId: "user-1", apiKeyId: "key-1"));
        await RefuseAsync(Request(userId: "user-2", apiKeyId: null));
    }
}

public sealed class SqliteInMemoryBudgetTests : BudgetContract
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

[Trait("Category", "Infrastructure")]
public sealed class PostgresRedisBudgetTests : BudgetContract
{
    private string? redis;

    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();

    protected override IReadOnlyDictionary<string, string?> CounterConfiguration => new Dictionary<string, string?>
    {
        [$"ConnectionStrings:{ResourceNames.Redis}"] = redis,
    };

    public override ValueTask InitializeAsync()
    {
        // Read first: a skip after the database exists would leave it behind.
        redis = TestInfrastructure.Redis;
        return base.InitializeAsync();
    }
}
