using System.Net;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing.ModelUpstream;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

public sealed class FallbackFixture : ModelGatewayFixture
{
    /// <summary>What makes an upstream fail, by trigger name (the theories' data).</summary>
    public static UpstreamStep Failure(string trigger) => trigger switch
    {
        "5xx" => UpstreamStep.ServerError(500),
        "503" => UpstreamStep.ServerError(503),
        "timeout" => UpstreamStep.Delay(TimeSpan.FromSeconds(20), UpstreamStep.Reply("too late", 1, 2)),
        "429" => UpstreamStep.RateLimited(TimeSpan.FromSeconds(20)),
        "context" => UpstreamStep.ContextLengthExceeded(),
        "filter" => UpstreamStep.ContentFiltered(),
        "filter-finish" => UpstreamStep.ContentFilterFinish(),
        "broken" => UpstreamStep.BrokenStream(),
        _ => throw new ArgumentOutOfRangeException(nameof(trigger), trigger, null),
    };

    private static readonly string[] TriggerNames = ["5xx", "503", "timeout", "429", "context", "filter", "filter-finish", "broken"];

    public static TheoryData<string> Triggers { get; } = [.. TriggerNames];

    /// <summary>Failures that say the deployment is unwell (not the request): it must cool down.</summary>
    public static TheoryData<string> CoolingTriggers { get; } = ["5xx", "timeout", "429"];

    public static TheoryData<string> NotRetriedTriggers { get; } = ["429", "context", "filter"];

    /// <summary>Short enough that a timeout test is quick, long enough that a loaded machine's normal answers fit.</summary>
    private static TestDeployment Fast(TestDeployment deployment) => deployment with { Timeout = TimeSpan.FromSeconds(2) };

    protected override IEnumerable<TestRoute> Routes
    {
        get
        {
            foreach (var trigger in TriggerNames)
            {
                yield return TestRoute.Of($"next-{trigger}", 2, Fast);
                yield return TestRoute.Of($"fb-{trigger}", 2, Fast, $"fb-{trigger}-backup", $"fb-{trigger}-second");
                yield return TestRoute.Of($"fb-{trigger}-backup", 1, Fast);
                yield return TestRoute.Of($"fb-{trigger}-second", 1, Fast);
                yield return TestRoute.Of($"cool-{trigger}", 2, Fast);
                yield return TestRoute.Of($"noretry-{trigger}", 2, d => Fast(d) with { MaxRetries = d.Name == "a" ? 2 : 0 });
            }

            yield return TestRoute.Of("retry-5xx", 2, d => Fast(d) with { MaxRetries = d.Name == "a" ? 1 : 0 });
            yield return TestRoute.Of("retry-timeout", 2, d => Fast(d) with { MaxRetries = d.Name == "a" ? 1 : 0 });
            yield return TestRoute.Of("all-429", 2, Fast);
            yield return TestRoute.Of("all-context", 2, Fast);
            yield return TestRoute.Of("all-5xx", 2, Fast);
            yield return TestRoute.Of("midstream", 2);
            yield return TestRoute.Of("stream-fb", 2, fallbacks: "stream-fb-backup");
            yield return TestRoute.Of("stream-fb-backup", 1);
            yield return TestRoute.Of("emb-fb", 2);
        }
    }
}

/// <summary>
/// Every fallback trigger moves the call to the next deployment, then to the route's fallback aliases in order;
/// a deployment that failed is never tried twice in one call (retries aside), cools down, and the caller only
/// sees an error when every candidate failed, with the status that says why.
/// </summary>
public sealed class FallbackContract(FallbackFixture fixture) : IClassFixture<FallbackFixture>
{
    private ScriptedOpenAiUpstream Upstream => fixture.Upstream;

    [Theory]
    [MemberData(nameof(FallbackFixture.Triggers), MemberType = typeof(FallbackFixture))]
    public async Task A_failing_deployment_hands_the_call_to_the_next_deployment_of_the_route(string trigger)
    {
        var platform = await fixture.GetAsync();
        var route = $"next-{trigger}";
        Upstream.Script($"{route}-a", FallbackFixture.Failure(trigger));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatAsync(ModelApi.Chat(route, "please answer"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Equal("Scripted reply to: please answer", answer.Content);
        Assert.Equal("b", answer.Header("x-agentplatform-deployment"));
        Assert.Equal($"{route}-b", answer.Header("x-agentplatform-model-served"));
        Assert.Equal(route, answer.Header("x-agentplatform-model-requested"));
        Assert.Equal("2", answer.Header("x-agentplatform-attempts"));
        Assert.Single(Upstream.CallsFor($"{route}-a"));
        Assert.Single(Upstream.CallsFor($"{route}-b"));
    }

    [Theory]
    [MemberData(nameof(FallbackFixture.Triggers), MemberType = typeof(FallbackFixture))]
    public async Task When_every_deployment_fails_the_fallback_aliases_serve_in_order_and_no_deployment_runs_twice(string trigger)
    {
        var platform = await fixture.GetAsync();
        var route = $"fb-{trigger}";
        Upstream.Script($"{route}-a", FallbackFixture.Failure(trigger));
        Upstream.Script($"{route}-b", FallbackFixture.Failure(trigger));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatAsync(ModelApi.Chat(route, "fall back"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Equal($"{route}-backup-a", answer.Header("x-agentplatform-model-served"));
        Assert.Equal(route, answer.Header("x-agentplatform-model-requested"));
        Assert.Equal("3", answer.Header("x-agentplatform-attempts"));
        Assert.Single(Upstream.CallsFor($"{route}-a"));
        Assert.Single(Upstream.CallsFor($"{route}-b"));
        Assert.Single(Upstream.CallsFor($"{route}-backup-a"));
        Assert.Empty(Upstream.CallsFor($"{route}-second-a"));
    }

    [Theory]
    [MemberData(nameof(FallbackFixture.CoolingTriggers), MemberType = typeof(FallbackFixture))]
    public async Task A_deployment_that_failed_cools_down_and_gets_no_calls_meanwhile(string trigger)
    {
        var platform = await fixture.GetAsync();
        var route = $"cool-{trigger}";
        Upstream.Script($"{route}-a", FallbackFixture.Failure(trigger));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var first = await client.ChatAsync(ModelApi.Chat(route, "first"));
        Assert.True(first.Status == HttpStatusCode.OK, first.Describe);
        Assert.Equal("b", first.Header("x-agentplatform-deployment"));

        for (var i = 0; i < 3; i++)
        {
            var next = await client.ChatAsync(ModelApi.Chat(route, $"during cooldown {i}"));
            Assert.True(next.Status == HttpStatusCode.OK, next.Describe);
            Assert.Equal("b", next.Header("x-agentplatform-deployment"));
        }

        Assert.Single(Upstream.CallsFor($"{route}-a"));
        Assert.Equal(4, Upstream.CallsFor($"{route}-b").Count);
    }

    [Fact]
    public async Task Max_retries_retry_the_same_deployment_after_a_server_error_or_a_timeout()
    {
        var platform = await fixture.GetAsync();
        Upstream.Script("retry-5xx-a", UpstreamStep.ServerError(502));
        Upstream.Script("retry-timeout-a", FallbackFixture.Failure("timeout"));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        foreach (var route in new[] { "retry-5xx", "retry-timeout" })
        {
            var answer = await client.ChatAsync(ModelApi.Chat(route, "retry me"));
            Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
            Assert.Equal("a", answer.Header("x-agentplatform-deployment"));
            Assert.Equal(2, Upstream.CallsFor($"{route}-a").Count);
            Assert.Empty(Upstream.CallsFor($"{route}-b"));
        }
    }

    [Theory]
    [MemberData(nameof(FallbackFixture.NotRetriedTriggers), MemberType = typeof(FallbackFixture))]
    public async Task Rate_limits_context_and_content_errors_are_not_retried_on_the_same_deployment(string trigger)
    {
        var platform = await fixture.GetAsync();
        var route = $"noretry-{trigger}";
        Upstream.Script($"{route}-a", FallbackFixture.Failure(trigger));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatAsync(ModelApi.Chat(route, "not again"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Equal("b", answer.Header("x-agentplatform-deployment"));
        Assert.Single(Upstream.CallsFor($"{route}-a"));
        Assert.Single(Upstream.CallsFor($"{route}-b"));
    }

    [Fact]
    public async Task When_every_candidate_fails_the_caller_gets_the_status_that_says_why()
    {
        var platform = await fixture.GetAsync();
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        Upstream.Script("all-429-a", UpstreamStep.RateLimited(TimeSpan.FromSeconds(12)));
        Upstream.Script("all-429-b", UpstreamStep.RateLimited(TimeSpan.FromSeconds(17)));
        var limited = await client.ChatAsync(ModelApi.Chat("all-429", "x"));
        limited.AssertOpenAiError(HttpStatusCode.TooManyRequests);
        Assert.True(int.TryParse(limited.Header("retry-after"), out var retryAfter) && retryAfter > 0, limited.Describe);

        Upstream.Script("all-context-a", UpstreamStep.ContextLengthExceeded());
        Upstream.Script("all-context-b", UpstreamStep.ContextLengthExceeded());
        var tooLong = await client.ChatAsync(ModelApi.Chat("all-context", "x"));
        tooLong.AssertOpenAiError(HttpStatusCode.BadRequest, code: "context_length_exceeded");

        Upstream.Script("all-5xx-a", UpstreamStep.ServerError(500));
        Upstream.Script("all-5xx-b", UpstreamStep.ServerError(503));
        var down = await client.ChatAsync(ModelApi.Chat("all-5xx", "x"));
        Assert.True(down.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, down.Describe);
        down.AssertOpenAiError(down.Status);

        foreach (var model in new[] { "all-429-a", "all-429-b", "all-context-a", "all-context-b", "all-5xx-a", "all-5xx-b" })
        {
            Assert.Single(Upstream.CallsFor(model));
        }
    }

    [Fact]
    public async Task A_streamed_call_falls_back_before_any_output_and_embeddings_fall_back_too()
    {
        var platform = await fixture.GetAsync();
        Upstream.Script("stream-fb-a", UpstreamStep.RateLimited(TimeSpan.FromSeconds(20)));
        Upstream.Script("stream-fb-b", UpstreamStep.ContextLengthExceeded());
        Upstream.Script("emb-fb-a", UpstreamStep.ServerError(503));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var streamed = await client.ChatStreamAsync(ModelApi.Chat("stream-fb", "stream anyway").WithUsage());

        Assert.True(streamed.Status == HttpStatusCode.OK && streamed.Done && streamed.Broken is null, streamed.Describe);
        Assert.Equal("Scripted reply to: stream anyway", streamed.Text);
        Assert.Equal("stream-fb-backup-a", streamed.Header("x-agentplatform-model-served"));
        Assert.Equal("3", streamed.Header("x-agentplatform-attempts"));
        Assert.Single(Upstream.CallsFor("stream-fb-a"));
        Assert.Single(Upstream.CallsFor("stream-fb-b"));

        var embedded = await client.EmbeddingsAsync(new System.Text.Json.Nodes.JsonObject { ["model"] = "emb-fb", ["input"] = "fall back" });
        Assert.True(embedded.Status == HttpStatusCode.OK, embedded.Describe);
        Assert.Equal("b", embedded.Header("x-agentplatform-deployment"));
        Assert.Equal("2", embedded.Header("x-agentplatform-attempts"));
        Assert.Single(Upstream.CallsFor("emb-fb-a"));
        Assert.Single(Upstream.CallsFor("emb-fb-b"));
    }

    [Fact]
    public async Task A_stream_that_breaks_after_output_reached_the_caller_ends_with_an_error_event_instead_of_hanging()
    {
        var platform = await fixture.GetAsync();
        Upstream.Script("midstream-a", UpstreamStep.BrokenStream(afterChunks: 2));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatStreamAsync(ModelApi.Chat("midstream", "one two three").WithUsage());

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Null(answer.Broken);
        Assert.StartsWith("Scripted reply", answer.Text, StringComparison.Ordinal);
        var last = answer.Chunks[^1];
        Assert.True(last.TryGetProperty("error", out var error), answer.Describe);
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Single(Upstream.CallsFor("midstream-a"));
        Assert.Empty(Upstream.CallsFor("midstream-b"));

        var after = await client.ChatAsync(ModelApi.Chat("midstream", "still serving?"));
        Assert.True(after.Status == HttpStatusCode.OK, after.Describe);
    }
}
