using System.Collections.Concurrent;
using System.Diagnostics;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Gateway.Tests.Support;

namespace AgentPlatform.Gateway.Tests;

/// <summary>The gateway with YARP's own information logs on, so there is a log line inside every proxied request.</summary>
public sealed class VerboseGatewayFixture : GatewayFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Logging:LogLevel:Yarp"] = "Information",
    };
}

public sealed class EdgeHeaderTests(VerboseGatewayFixture fixture) : IClassFixture<VerboseGatewayFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Headers_a_client_could_pose_with_are_not_forwarded()
    {
        using var client = fixture.Gateway.CreateClient(fixture.Backend.Tokens.Issue("tenant-a", "user-1"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tasks");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Host", "evil.test");
        request.Headers.Add("Forwarded", "for=203.0.113.7;host=evil.test");
        request.Headers.Add("X-Real-IP", "203.0.113.7");
        request.Headers.Add("X-Original-URL", "/api/admin");
        request.Headers.Add("X-HTTP-Method-Override", "DELETE");
        request.Headers.Add("x-tenant-id", "tenant-b");
        request.Headers.Add("x-agentplatform-caller", "worker");
        request.Headers.Add("X-Custom", "kept");

        using var response = await client.SendAsync(request, Ct);

        var echoed = await response.ProxiedAsync();
        Assert.Equal("127.0.0.1", echoed.Header("X-Forwarded-For"));
        Assert.Equal(fixture.Gateway.Address.Authority, echoed.Header("X-Forwarded-Host"));
        foreach (var name in new[] { "Forwarded", "X-Real-IP", "X-Original-URL", "X-HTTP-Method-Override", "x-tenant-id", "x-agentplatform-caller" })
        {
            Assert.Null(echoed.Header(name));
        }

        Assert.Equal("kept", echoed.Header("X-Custom"));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_forwarded_client_address_is_the_client()
    {
        await using var gateway = TestGateway.Start(fixture.Backend, new Dictionary<string, string?>
        {
            ["Gateway:TrustedProxies:0"] = "127.0.0.0/8",
            ["Gateway:RateLimits:ClientAddress:Capacity"] = "1",
        });
        using var client = gateway.CreateClient();

        async Task<HttpResponseMessage> SignInFromAsync(string address)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/token")
            {
                Content = new FormUrlEncodedContent([new("grant_type", "password"), new("username", "u"), new("password", "p")]),
            };
            request.Headers.Add("X-Forwarded-For", address);
            return await client.SendAsync(request, Ct);
        }

        using var first = await SignInFromAsync("203.0.113.7");
        Assert.Equal("203.0.113.7", (await first.ProxiedAsync()).Header("X-Forwarded-For"));
        using var again = await SignInFromAsync("203.0.113.7");
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, again.StatusCode);
        using var other = await SignInFromAsync("198.51.100.9");
        await other.ProxiedAsync();
    }

    [Fact]
    public async Task A_callers_trace_context_starts_a_new_linked_trace()
    {
        var callerTraceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerTraceParent = $"00-{callerTraceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
        var links = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Links.Any(link => link.Context.TraceId.ToHexString() == callerTraceId))
                {
                    links.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var client = fixture.Gateway.CreateClient(fixture.Backend.Tokens.Issue("tenant-a", "user-1"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tasks");
        request.Headers.Add("traceparent", callerTraceParent);
        request.Headers.Add("tracestate", "vendor=caller");
        request.Headers.Add("baggage", "tenant_id=tenant-b");

        using var response = await client.SendAsync(request, Ct);

        var echoed = await response.ProxiedAsync();
        var traceId = response.TraceId();
        Assert.NotEqual(callerTraceId, traceId);
        Assert.Contains(traceId, echoed.Header("traceparent"), StringComparison.Ordinal);
        Assert.DoesNotContain("caller", echoed.Header("tracestate") ?? string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant-b", echoed.Header("baggage") ?? string.Empty, StringComparison.Ordinal);
        // The server's activity stops after the response has gone out, so the client can be first.
        for (var waited = 0; links.IsEmpty && waited < 100; waited++)
        {
            await Task.Delay(50, Ct);
        }

        var linked = Assert.Single(links);
        Assert.Equal(traceId, linked.TraceId.ToHexString());
    }

    [Fact]
    public async Task With_trusted_trace_context_the_callers_trace_continues()
    {
        await using var gateway = TestGateway.Start(fixture.Backend, new Dictionary<string, string?> { ["Gateway:TrustIncomingTraceContext"] = "true" });
        var callerTraceId = ActivityTraceId.CreateRandom().ToHexString();
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/version");
        request.Headers.Add("traceparent", $"00-{callerTraceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(callerTraceId, response.TraceId());
        Assert.Contains(callerTraceId, (await response.ProxiedAsync()).Header("traceparent"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_lines_of_a_request_carry_its_request_tenant_and_trace_ids()
    {
        var tenant = $"tenant-{Guid.NewGuid():N}";
        using var client = fixture.Gateway.CreateClient(fixture.Backend.Tokens.Issue(tenant, "user-1"));

        using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative), Ct);
        await response.ProxiedAsync();
        var traceId = response.TraceId();

        var lines = fixture.Gateway.Logs.Lines.Where(line => line.Scope.GetValueOrDefault("TraceId") == traceId).ToList();
        Assert.Contains(lines, line => line.Category.StartsWith("Yarp", StringComparison.Ordinal));
        Assert.All(lines, line =>
        {
            Assert.Equal(tenant, line.Scope.GetValueOrDefault(PlatformTags.TenantId));
            Assert.False(string.IsNullOrEmpty(line.Scope.GetValueOrDefault("RequestId")));
        });
    }
}
