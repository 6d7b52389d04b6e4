using AgentPlatform.Domain.Models;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Testing;

namespace AgentPlatform.ModelGateway.Tests.Governance;

/// <summary>Requests and tokens per minute, per tenant and per caller, in OpenAI's terms and headers.</summary>
public abstract class RateLimitContract : GovernanceTest
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    [Fact]
    public async Task A_caller_over_its_requests_per_minute_is_refused_until_the_minute_ends()
    {
        await StartAsync(new Dictionary<string, string?>
        {
            ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = "2",
            ["ModelGateway:RateLimits:Tenant:RequestsPerMinute"] = "100",
        });

        await using var first = await AdmitAsync(Request());
        Assert.Equal("2", first.ResponseHeaders["x-ratelimit-limit-requests"]);
        Assert.Equal("1", first.ResponseHeaders["x-ratelimit-remaining-requests"]);
        Assert.Equal("50s", first.ResponseHeaders["x-ratelimit-reset-requests"]);
        Assert.False(first.ResponseHeaders.ContainsKey("x-ratelimit-limit-tokens"));
        await using var second = await AdmitAsync(Request());
        Assert.Equal("0", second.ResponseHeaders["x-ratelimit-remaining-requests"]);

        var refusal = await RefuseAsync(Request());

        Assert.Equal(429, refusal.StatusCode);
        Assert.Equal("requests", refusal.Type);
        Assert.Equal("rate_limit_exceeded", refusal.Code);
        Assert.Contains("API key 'key-1'", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(50), refusal.RetryAfter);
        Assert.Equal("2", refusal.Headers["x-ratelimit-limit-requests"]);
        Assert.Equal("0", refusal.Headers["x-ratelimit-remaining-requests"]);
        Assert.Single(await UsageAsync(), u => u.Outcome == ModelOutcomes.RateLimited && u.StatusCode == 429);

        // Another key of the same tenant has a limit of its own.
        await using var otherKey = await AdmitAsync(Request(apiKeyId: "key-2"));

        Clock.Advance(TimeSpan.FromSeconds(50));
        await using var nextMinute = await AdmitAsync(Request());
        Assert.Equal("1", nextMinute.ResponseHeaders["x-ratelimit-remaining-requests"]);
        Assert.Equal("1m0s", nextMinute.ResponseHeaders["x-ratelimit-reset-requests"]);
    }

    [Fact]
    public async Task Tokens_per_minute_count_the_estimate_and_settle_to_the_real_tokens()
    {
        await StartAsync(new Dictionary<string, string?> { ["ModelGateway:RateLimits:Tenant:TokensPerMinute"] = "1000" });

        var first = await AdmitAsync(Request(inputTokens: 100, maxOutputTokens: 450));
        Assert.Equal("1000", first.ResponseHeaders["x-ratelimit-limit-tokens"]);
        Assert.Equal("450", first.ResponseHeaders["x-ratelimit-remaining-tokens"]);

        var refusal = await RefuseAsync(Request(apiKeyId: "key-2", inputTokens: 100, maxOutputTokens: 450));
        Assert.Equal("tokens", refusal.Type);
        Assert.Equal("rate_limit_exceeded", refusal.Code);
        Assert.Contains($"tenant '{Tenant}'", refusal.Message, StringComparison.Ordinal);

        await first.CompleteAsync(Result(60, 40), Ct);
        await first.DisposeAsync();

        await using var second = await AdmitAsync(Request(apiKeyId: "key-2", inputTokens: 100, maxOutputTokens: 450));
        Assert.Equal("350", second.ResponseHeaders["x-ratelimit-remaining-tokens"]);
    }

    [Fact]
    public async Task A_call_refused_by_its_budget_gives_its_rate_limit_back()
    {
        await StartAsync(new Dictionary<string, string?> { ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = "1" });
        await AddBudgetAsync(ModelBudgetKeys.ApiKeyScope, "key-1", ModelBudgetKeys.Daily, 10);

        var refusal = await RefuseAsync(Request());
        Assert.Equal("budget_exceeded", refusal.Code);
        Assert.Equal("1", refusal.Headers["x-ratelimit-remaining-requests"]);

        await using var cheap = await AdmitAsync(Request(inputTokens: 2, maxOutputTokens: 4));
        Assert.Equal("0", cheap.ResponseHeaders["x-ratelimit-remaining-requests"]);
    }

    [Fact]
    public async Task A_tenant_override_replaces_the_default_limit()
    {
        await StartAsync(new Dictionary<string, string?>
        {
            ["ModelGateway:RateLimits:Tenant:RequestsPerMinute"] = "100",
            [$"ModelGateway:RateLimits:Tenants:{Tenant}:Tenant:RequestsPerMinute"] = "1",
        });

        await using var first = await AdmitAsync(Request(apiKeyId: "key-1"));
        var refusal = await RefuseAsync(Request(apiKeyId: "key-2"));

        Assert.Contains($"tenant '{Tenant}'", refusal.Message, StringComparison.Ordinal);
        Assert.Equal("1", refusal.Headers["x-ratelimit-limit-requests"]);
    }

    [Fact]
    public async Task A_caller_without_a_key_is_limited_as_the_user_it_is_charged_to()
    {
        await StartAsync(new Dictionary<string, string?> { ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = "1" });

        await using var first = await AdmitAsync(Request(apiKeyId: null));
        var refusal = await RefuseAsync(Request(apiKeyId: null));
        Assert.Contains("user 'user-1'", refusal.Message, StringComparison.Ordinal);
        await using var withKey = await AdmitAsync(Request(apiKeyId: "key-1"));

        // A service acting for a user counts against that user, not against the service: the Worker's calls for
        // two users' tasks do not share one limit, and the Worker's call for user-1 meets user-1's own calls.
        await using var forAnotherUser = await AdmitAsync(Request(userId: "user-2", apiKeyId: null, subject: "service:worker"));
        var forTheSameUser = await RefuseAsync(Request(userId: "user-1", apiKeyId: null, subject: "service:worker"));
        Assert.Contains("user 'user-1'", forTheSameUser.Message, StringComparison.Ordinal);

        // A caller charged to no user (a service on its own) is limited by its subject.
        await using var service = await AdmitAsync(Request(userId: null, apiKeyId: null, subject: "service:worker"));
        var serviceAgain = await RefuseAsync(Request(userId: null, apiKeyId: null, subject: "service:worker"));
        Assert.Contains("caller 'service:worker'", serviceAgain.Message, StringComparison.Ordinal);
    }
}

public sealed class InMemoryRateLimitTests : RateLimitContract
{
    [Theory]
    [InlineData(250, "250ms")]
    [InlineData(12_500, "12.5s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(90_250, "1m30.25s")]
    public void Reset_times_are_written_the_way_OpenAI_writes_them(int milliseconds, string expected) =>
        Assert.Equal(expected, ModelRateLimiter.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));
}

[Trait("Category", "Infrastructure")]
public sealed class RedisRateLimitTests : RateLimitContract
{
    private string? redis;

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
