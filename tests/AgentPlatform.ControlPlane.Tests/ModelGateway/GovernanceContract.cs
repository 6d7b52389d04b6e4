using System.Net;
using System.Net.Http.Json;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Testing.ModelUpstream;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

public sealed class GovernanceFixture : ModelGatewayFixture
{
    public const int CallerRequestsPerMinute = 3;

    protected override IEnumerable<TestRoute> Routes { get; } =
    [
        // One micro per token either way: costs are easy to reason about.
        TestRoute.Of("priced", 1, d => d with { InputPriceMicros = 1_000_000, OutputPriceMicros = 1_000_000 }),
        TestRoute.Of("priced-stream", 1, d => d with { InputPriceMicros = 1_000_000, OutputPriceMicros = 1_000_000 }),
        TestRoute.Of("limited", 1),
    ];

    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        // A budget created by a test must count for that test's next call.
        ["ModelGateway:Governance:BudgetCacheDuration"] = "00:00:00.050",
        ["ModelGateway:RateLimits:Caller:RequestsPerMinute"] = CallerRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"Identity:ServiceClients:{ServiceClient.Id}:Secret"] = ServiceClient.Secret,
    };
}

/// <summary>Budgets refuse calls before any upstream is called and stop streams cleanly; rate limits answer 429.</summary>
public sealed class GovernanceContract(GovernanceFixture fixture) : IClassFixture<GovernanceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_exhausted_budget_refuses_the_call_with_insufficient_quota_before_any_upstream_call()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (key, keyId) = await admin.CreateApiKeyWithIdAsync(Roles.Developer);
        await CreateBudgetAsync(admin, keyId, limitMicros: 0);
        using var client = platform.CreateClient(key);

        var refused = await client.ChatAsync(ModelApi.Chat("priced", "this costs money"));

        refused.AssertOpenAiError(HttpStatusCode.TooManyRequests, code: "budget_exceeded", type: "insufficient_quota");
        Assert.Empty(fixture.Upstream.CallsFor("priced-a"));
        var streamed = await client.ChatStreamAsync(ModelApi.Chat("priced", "this costs money too"));
        Assert.Equal(HttpStatusCode.TooManyRequests, streamed.Status);
        Assert.Contains("budget_exceeded", streamed.ErrorText, StringComparison.Ordinal);
        Assert.Empty(fixture.Upstream.CallsFor("priced-a"));
    }

    [Fact]
    public async Task The_budget_of_the_user_who_created_an_api_key_also_binds_the_key()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userName = $"owner-{Guid.NewGuid():N}"[..20];
        const string password = "Owner-Password-Long-1";
        string ownerId;
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName, displayName = "Key owner", password, roles = new[] { Roles.TenantAdmin } }, Ct))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            ownerId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("id").GetString()!;
        }

        using var owner = platform.CreateClient(await platform.SignInAsync(userName, password));
        var key = await owner.CreateApiKeyAsync(Roles.Developer);
        using (var budget = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "user", subjectId = ownerId, limitMicros = 0, period = "monthly" }, Ct))
        {
            Assert.True(budget.StatusCode == HttpStatusCode.Created, await budget.Content.ReadAsStringAsync(Ct));
        }

        using var client = platform.CreateClient(key);
        var refused = await client.ChatAsync(ModelApi.Chat("priced", "the key has no budget of its own"));

        // The key has no budget; its creator's (a user's) applies through the token's key_owner claim.
        var error = refused.AssertOpenAiError(HttpStatusCode.TooManyRequests, code: "budget_exceeded", type: "insufficient_quota");
        Assert.Contains($"user '{ownerId}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_budget_of_the_user_a_service_token_acts_for_also_binds_the_service()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        string ownerId;
        using (var created = await admin.PostAsJsonAsync(
            "/api/users", new { userName = AuthServer.Unique("task-owner"), displayName = "Task owner", password = AuthServer.Password, roles = new[] { Roles.Operator } }, Ct))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            ownerId = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("id").GetString()!;
        }

        using (var budget = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "user", subjectId = ownerId, limitMicros = 0, period = "monthly" }, Ct))
        {
            Assert.True(budget.StatusCode == HttpStatusCode.Created, await budget.Content.ReadAsStringAsync(Ct));
        }

        var token = await platform.TokenAsync(
            AuthServer.Form(("grant_type", "client_credentials"), ("tenant_id", "default"), ("on_behalf_of", ownerId)),
            AuthServer.Basic(ServiceClient.Id, ServiceClient.Secret));
        Assert.True(token.Status == HttpStatusCode.OK, token.Body.ToString());
        using var worker = platform.CreateClient(token.AccessToken);
        var refused = await worker.ChatAsync(ModelApi.Chat("priced", "a task step for a user without budget"));

        // The service has no budget; the user it acts for (key_owner) has, and it is spent.
        var error = refused.AssertOpenAiError(HttpStatusCode.TooManyRequests, code: "budget_exceeded", type: "insufficient_quota");
        Assert.Contains($"user '{ownerId}'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_budget_that_runs_out_mid_stream_ends_the_stream_cleanly_with_finish_reason_length()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (key, keyId) = await admin.CreateApiKeyWithIdAsync(Roles.Developer);
        // Enough for the prompt and a few output tokens, far from enough for the long answer the upstream sends.
        await CreateBudgetAsync(admin, keyId, limitMicros: 200);
        var longAnswer = string.Join(' ', Enumerable.Range(0, 1500).Select(i => $"word{i}"));
        fixture.Upstream.Script("priced-stream-a", UpstreamStep.Reply(longAnswer, promptTokens: 10, completionTokens: 1500));
        using var client = platform.CreateClient(key);

        var request = ModelApi.Chat("priced-stream", "tell me everything").WithUsage();
        request["max_tokens"] = 20;
        var answer = await client.ChatStreamAsync(request);

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Null(answer.Broken);
        Assert.True(answer.Done, answer.Describe);
        Assert.Equal("length", answer.FinishReason);
        Assert.True(answer.Text.Length < longAnswer.Length, "The stream went on after the budget ran out.");
        Assert.StartsWith("word0", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_over_its_request_rate_gets_429_with_retry_after_and_rate_limit_headers()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        using var client = platform.CreateClient(await admin.CreateApiKeyAsync(Roles.Developer));

        // The limiter counts in fixed one-minute windows: start well inside one so the four calls share it.
        var leftInMinute = TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(DateTimeOffset.UtcNow.UtcTicks % TimeSpan.TicksPerMinute);
        if (leftInMinute < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(leftInMinute + TimeSpan.FromMilliseconds(200), Ct);
        }

        var allowed = new List<ModelAnswer>();
        for (var i = 0; i < GovernanceFixture.CallerRequestsPerMinute; i++)
        {
            allowed.Add(await client.ChatAsync(ModelApi.Chat("limited", $"call {i}")));
        }

        var refused = await client.ChatAsync(ModelApi.Chat("limited", "one too many"));

        Assert.All(allowed, answer => Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe));
        refused.AssertOpenAiError(HttpStatusCode.TooManyRequests);
        Assert.True(int.TryParse(refused.Header("retry-after"), out var retryAfter) && retryAfter > 0, refused.Describe);
        Assert.Equal(GovernanceFixture.CallerRequestsPerMinute, fixture.Upstream.CallsFor("limited-a").Count);
        var limit = GovernanceFixture.CallerRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(allowed, answer => Assert.Equal(limit, answer.Header("x-ratelimit-limit-requests")));
        Assert.Equal(["2", "1", "0"], allowed.Select(answer => answer.Header("x-ratelimit-remaining-requests")));
        Assert.Equal("0", refused.Header("x-ratelimit-remaining-requests"));
    }

    private static async Task CreateBudgetAsync(HttpClient admin, string apiKeyId, long limitMicros)
    {
        using var created = await admin.PostAsJsonAsync(
            "/api/model-budgets",
            new { scope = "api-key", subjectId = apiKeyId, limitMicros, period = "daily" },
            Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"POST /api/model-budgets: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync(Ct)}");
    }
}
