using System.Net;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Gateway.Tests.Support;

namespace AgentPlatform.Gateway.Tests;

public sealed class ApiKeyTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TestBackend Backend => fixture.Backend;

    private TestGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task An_api_key_is_exchanged_and_backends_see_only_the_access_token()
    {
        var apiKey = NewApiKey();
        Backend.AddApiKey(apiKey, "tenant-keys", "key-1");
        using var client = Gateway.CreateClient(apiKey);

        using var api = await client.PostAsync(new Uri("/api/tasks", UriKind.Relative), new StringContent("{}"), Ct);
        using var models = await client.GetAsync(new Uri("/v1/models", UriKind.Relative), Ct);

        foreach (var echoed in new[] { await api.ProxiedAsync(), await models.ProxiedAsync() })
        {
            var authorization = echoed.Header("Authorization");
            Assert.NotNull(authorization);
            Assert.StartsWith("Bearer ", authorization, StringComparison.Ordinal);
            var token = TestTokens.Read(authorization["Bearer ".Length..]);
            Assert.Equal("tenant-keys", token.GetClaim(PlatformClaims.TenantId).Value);
            Assert.Equal("key-1", token.GetClaim(PlatformClaims.ApiKeyId).Value);
        }

        Assert.Empty(Backend.LeakedApiKeys);
        Assert.Equal(1, Backend.ExchangesOf(apiKey));
    }

    [Fact]
    public async Task An_api_key_on_a_public_route_is_not_forwarded_either()
    {
        var apiKey = NewApiKey();
        using var client = Gateway.CreateClient(apiKey);

        using var response = await client.GetAsync(new Uri("/.well-known/openid-configuration", UriKind.Relative), Ct);

        var echoed = await response.ProxiedAsync();
        Assert.Null(echoed.Header("Authorization"));
        Assert.Empty(Backend.LeakedApiKeys);
    }

    [Fact]
    public async Task A_rejected_key_is_refused_and_remembered_briefly()
    {
        var apiKey = NewApiKey();
        using var client = Gateway.CreateClient(apiKey);

        using (var first = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            var problem = await first.ProblemAsync(401);
            Assert.Contains("API key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("error=\"invalid_token\"", Assert.Single(first.Headers.WwwAuthenticate).Parameter, StringComparison.Ordinal);
        }

        using (var again = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            await again.ProblemAsync(401);
        }

        Assert.Equal(1, Backend.ExchangesOf(apiKey));

        Gateway.Clock!.Advance(TimeSpan.FromSeconds(6));
        using (var later = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            await later.ProblemAsync(401);
        }

        Assert.Equal(2, Backend.ExchangesOf(apiKey));
    }

    [Fact]
    public async Task An_exchanged_token_is_reused_for_at_most_a_minute()
    {
        var apiKey = NewApiKey();
        Backend.AddApiKey(apiKey, "tenant-keys", "key-2");
        using var client = Gateway.CreateClient(apiKey);

        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Gateway.Clock!.Advance(TimeSpan.FromSeconds(59));
        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Assert.Equal(1, Backend.ExchangesOf(apiKey));

        Gateway.Clock.Advance(TimeSpan.FromSeconds(2));
        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Assert.Equal(2, Backend.ExchangesOf(apiKey));
    }

    [Fact]
    public async Task A_short_lived_token_is_reused_only_until_shortly_before_it_expires()
    {
        var apiKey = NewApiKey();
        Backend.AddApiKey(apiKey, "tenant-keys", "key-3", tokenLifetime: TimeSpan.FromSeconds(40));
        using var client = Gateway.CreateClient(apiKey);

        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Gateway.Clock!.Advance(TimeSpan.FromSeconds(9));
        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Assert.Equal(1, Backend.ExchangesOf(apiKey));

        // 40 s lifetime − 30 s margin: reused for 10 s.
        Gateway.Clock.Advance(TimeSpan.FromSeconds(2));
        await (await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct)).ProxiedAsync();
        Assert.Equal(2, Backend.ExchangesOf(apiKey));
    }

    [Fact]
    public async Task Concurrent_first_requests_with_one_key_share_one_exchange()
    {
        const int requests = 16;
        var apiKey = NewApiKey();
        Backend.AddApiKey(apiKey, "tenant-keys", "key-4");
        var gate = Backend.HoldExchangesOf(apiKey);
        using var shared = new MeasurementCounter(Gateway.Services, EdgeTelemetry.ApiKeyLookups, new("result", EdgeTelemetry.ApiKeyResultShared));
        using var client = Gateway.CreateClient(apiKey);

        var responses = Enumerable.Range(0, requests)
            .Select(i => client.GetAsync(new Uri($"/api/tasks/{i}", UriKind.Relative), Ct))
            .ToList();

        // Every request but the first has joined the exchange the first one started, which is still held.
        await shared.WaitForAsync(requests - 1);
        await Backend.ExchangeArrivedAsync(apiKey).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(1, Backend.ExchangesOf(apiKey));
        gate.SetResult();

        foreach (var response in await Task.WhenAll(responses))
        {
            using (response)
            {
                await response.ProxiedAsync();
            }
        }

        Assert.Equal(1, Backend.ExchangesOf(apiKey));
    }

    [Fact]
    public async Task A_failing_token_endpoint_answers_503_and_nothing_is_remembered()
    {
        await using var gateway = TestGateway.Start(Backend, new Dictionary<string, string?> { ["Gateway:ApiKeys:Timeout"] = "00:00:01" }, fakeClock: false);
        var apiKey = NewApiKey();
        Backend.AddApiKey(apiKey, "tenant-keys", "key-5", failWith: HttpStatusCode.InternalServerError);
        using var client = gateway.CreateClient(apiKey);

        using (var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct))
        {
            // The key may be fine: the caller is told to come back, not that its credential is bad.
            await response.ProblemAsync(503);
            Assert.Empty(response.Headers.WwwAuthenticate);
            response.TraceId();
        }

        using (var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative), Ct))
        {
            var error = await response.OpenAiErrorAsync(503, code: null);
            Assert.Equal("server_error", error.GetProperty("type").GetString());
        }

        // Once the control plane answers again, the key works: no failure was cached.
        Backend.AddApiKey(apiKey, "tenant-keys", "key-5");
        using var recovered = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await response.ProblemAsync(503);
            await Task.Delay(TimeSpan.FromMilliseconds(200), recovered.Token);
        }

        Assert.True(Backend.ExchangesOf(apiKey) >= 2);
        Assert.Empty(Backend.LeakedApiKeys);
    }

    private static string NewApiKey() => $"apk_{Guid.NewGuid():N}";
}
