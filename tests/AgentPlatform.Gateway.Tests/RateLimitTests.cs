using System.Net;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Gateway.Tests.Support;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Gateway.Tests;

/// <summary>Small buckets that refill at one token per second of the gateway's fake clock.</summary>
public sealed class SmallRateLimitsFixture : GatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Gateway:RateLimits:Tenant:Capacity"] = "5",
        ["Gateway:RateLimits:Tenant:RefillPerSecond"] = "1",
        ["Gateway:RateLimits:Client:Capacity"] = "3",
        ["Gateway:RateLimits:Client:RefillPerSecond"] = "1",
        ["Gateway:RateLimits:ClientAddress:Capacity"] = "4",
        ["Gateway:RateLimits:ClientAddress:RefillPerSecond"] = "0.5",
    };
}

public sealed class RateLimitTests(SmallRateLimitsFixture fixture) : IClassFixture<SmallRateLimitsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_client_and_each_tenant_has_a_bucket_and_both_must_allow()
    {
        var tenant = NewTenant();
        using var alice = Client(tenant, "alice");
        using var bob = Client(tenant, "bob");
        using var stranger = Client(NewTenant(), "carol");

        // Alice's own bucket (3) runs out first; her refused request costs the tenant nothing.
        for (var i = 0; i < 3; i++)
        {
            await (await alice.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        }

        using (var refused = await alice.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            var problem = await refused.ProblemAsync(429);
            Assert.Contains("client", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            refused.TraceId();
        }

        // The tenant's bucket (5) has 2 left for Bob, although his own bucket is full.
        for (var i = 0; i < 2; i++)
        {
            await (await bob.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        }

        using (var refused = await bob.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            var problem = await refused.ProblemAsync(429);
            Assert.Contains("tenant", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        // Another tenant is not affected.
        await (await stranger.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
    }

    [Fact]
    public async Task A_refused_client_may_come_back_after_Retry_After()
    {
        using var client = Client(NewTenant(), "dave");
        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        }

        using var refused = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        fixture.Gateway.Clock!.Advance(refused.Headers.RetryAfter!.Delta!.Value);
        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
    }

    [Fact]
    public async Task Api_keys_have_their_own_buckets_and_v1_refusals_are_shaped_like_OpenAI_errors()
    {
        var tenant = NewTenant();
        var apiKey = $"apk_{Guid.NewGuid():N}";
        fixture.Backend.AddApiKey(apiKey, tenant, "key-rl");
        using var client = fixture.Gateway.CreateClient(apiKey);

        for (var i = 0; i < 3; i++)
        {
            await (await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent("{}"), Ct)).ProxiedAsync();
        }

        using var refused = await client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent("{}"), Ct);
        var error = await refused.OpenAiErrorAsync(429, "rate_limit_exceeded");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        refused.TraceId();

        // A user of the same tenant still has its own bucket (and 2 of the tenant's 5 tokens).
        using var user = Client(tenant, "erin");
        await (await user.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
    }

    [Fact]
    public async Task Credential_endpoints_are_limited_per_client_address_whatever_the_client_claims()
    {
        using var client = fixture.Gateway.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await (await client.PostAsync(new Uri("/auth/token", UriKind.Relative), PasswordGrant(), Ct)).ProxiedAsync();
        }

        using (var refused = await client.PostAsync(new Uri("/auth/token", UriKind.Relative), PasswordGrant(), Ct))
        {
            var problem = await refused.ProblemAsync(429);
            Assert.Contains("client address", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            // Half a token per second: the next one is 2 s away.
            Assert.Equal(TimeSpan.FromSeconds(2), refused.Headers.RetryAfter?.Delta);
        }

        using var spoofed = new HttpRequestMessage(HttpMethod.Post, "/auth/token") { Content = PasswordGrant() };
        spoofed.Headers.Add("X-Forwarded-For", "203.0.113.7");
        spoofed.Headers.Add("X-Real-IP", "203.0.113.7");
        using var stillRefused = await client.SendAsync(spoofed, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, stillRefused.StatusCode);

        // Other routes do not share the address's bucket.
        using var version = await client.GetAsync(new Uri("/api/version", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
    }

    [Fact]
    public async Task When_the_counters_store_fails_requests_pass_and_it_is_counted()
    {
        await using var gateway = TestGateway.Start(
            fixture.Backend,
            new Dictionary<string, string?> { ["Gateway:RateLimits:Client:Capacity"] = "1" },
            configureServices: services => services.AddSingleton<ICounterStore, UnreachableCounterStore>());
        using var failOpen = new MeasurementCounter(gateway.Services, EdgeTelemetry.RateLimitFailOpen);
        using var client = gateway.CreateClient(fixture.Backend.Tokens.Issue(NewTenant(), "frank"));

        for (var i = 0; i < 3; i++)
        {
            await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        }

        Assert.Equal(3, failOpen.Total);
        Assert.Contains(gateway.Logs.Lines, line => line.Message.Contains("requests pass unchecked", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Category", "Infrastructure")]
    public async Task Gateway_instances_share_the_buckets_through_redis()
    {
        var settings = new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Redis}"] = TestInfrastructure.Redis,
            ["Gateway:RateLimits:Client:Capacity"] = "3",
            ["Gateway:RateLimits:Client:RefillPerSecond"] = "0.001",
        };
        await using var first = TestGateway.Start(fixture.Backend, settings, fakeClock: false);
        await using var second = TestGateway.Start(fixture.Backend, settings, fakeClock: false);
        var token = fixture.Backend.Tokens.Issue(NewTenant(), "grace");
        using var viaFirst = first.CreateClient(token);
        using var viaSecond = second.CreateClient(token);

        await (await viaFirst.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        await (await viaSecond.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        await (await viaFirst.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();

        using var refused = await viaSecond.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);
        await refused.ProblemAsync(429);
        // One token at 0.001 per second: about 1000 s, rounded up to whole seconds.
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(990), TimeSpan.FromSeconds(1000));
    }

    private static string NewTenant() => $"tenant-{Guid.NewGuid():N}";

    private static FormUrlEncodedContent PasswordGrant() =>
        new([new("grant_type", "password"), new("username", "mallory"), new("password", "guess")]);

    private HttpClient Client(string tenant, string subject) => fixture.Gateway.CreateClient(fixture.Backend.Tokens.Issue(tenant, subject));
}
