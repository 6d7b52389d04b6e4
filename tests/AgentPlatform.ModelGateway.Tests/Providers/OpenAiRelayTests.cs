using System.Text;
using System.Text.Json.Nodes;
using AgentPlatform.ModelGateway.Providers;

namespace AgentPlatform.ModelGateway.Tests.Providers;

public sealed class OpenAiRelayTests
{
    [Fact]
    public void The_request_goes_upstream_with_the_deployments_model_and_without_the_platforms_options_everything_else_as_sent()
    {
        const string request = """
            {"model":"alias","messages":[{"role":"user","content":"héllo \"you\""}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
             "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}},"logprobs":true,"top_logprobs":2,"service_tier":"flex",
             "stream":false,"stream_options":{"include_usage":true},"agentplatform":{"mock_response":"x"},"max_completion_tokens":64}
            """;

        var sent = JsonNode.Parse(OpenAiRelay.Rewrite(Encoding.UTF8.GetBytes(request), "gpt-real").Span)!.AsObject();
        var original = JsonNode.Parse(request)!.AsObject();

        Assert.Equal("gpt-real", (string?)sent["model"]);
        Assert.False(sent.ContainsKey("agentplatform"));
        Assert.False(sent.ContainsKey("stream"));
        Assert.False(sent.ContainsKey("stream_options"));
        foreach (var name in new[] { "messages", "tools", "response_format", "logprobs", "top_logprobs", "service_tier", "max_completion_tokens" })
        {
            Assert.True(JsonNode.DeepEquals(original[name], sent[name]), name);
        }
    }

    [Fact]
    public void Usage_text_and_identity_are_read_from_the_answer_which_is_kept_byte_for_byte()
    {
        var answer = Encoding.UTF8.GetBytes("""
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-real-2026","service_tier":"default",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":null,"annotations":[]},"logprobs":{"content":[]},"finish_reason":"stop"},
                        {"index":1,"message":{"role":"assistant","content":" there","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}
            """);

        var read = OpenAiRelay.Read(answer);

        Assert.NotNull(read);
        Assert.Equal(answer, read.Json.ToArray());
        Assert.Equal(("chatcmpl-1", "gpt-real-2026"), (read.Id, read.Model));
        Assert.Equal((12L, 3L, 8L), (read.InputTokens, read.OutputTokens, read.CachedInputTokens));
        Assert.Equal("Hello there", read.Text);
        Assert.False(read.ContentFiltered);
    }

    [Fact]
    public void A_content_filter_finish_and_a_missing_usage_are_noticed()
    {
        var read = OpenAiRelay.Read(Encoding.UTF8.GetBytes("""
            {"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}
            """));

        Assert.NotNull(read);
        Assert.True(read.ContentFiltered);
        Assert.Null(read.InputTokens);
        Assert.Null(read.OutputTokens);
        Assert.Equal("", read.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"error":{"message":"oops"}}""")]
    [InlineData("""{"choices":"nope"}""")]
    [InlineData("""{"id":"x","choices":[{"message":{"content":"cut""")]
    public void An_answer_that_is_not_a_chat_completion_is_refused(string body) =>
        Assert.Null(OpenAiRelay.Read(Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("http://vllm.local:8000/v1", "http://vllm.local:8000/v1/chat/completions")]
    [InlineData("http://vllm.local:8000/v1/", "http://vllm.local:8000/v1/chat/completions")]
    [InlineData(null, "https://api.openai.com/v1/chat/completions")]
    public void Chat_completions_are_sent_to_the_deployments_endpoint(string? endpoint, string expected)
    {
        var deployment = new AgentPlatform.ModelGateway.Routing.ModelDeploymentDefinition(
            "d", "openai", endpoint is null ? null : new Uri(endpoint), "m", null, 0, 1, TimeSpan.FromSeconds(30), 0, TimeSpan.FromSeconds(30), 128_000,
            AgentPlatform.ModelGateway.Governance.ModelPrice.Free, true);

        Assert.Equal(expected, OpenAiRelay.ChatCompletionsUri(deployment).AbsoluteUri);
    }
}
