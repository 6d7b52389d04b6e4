using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPlatform.Testing.ModelUpstream;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>
/// The scripted upstream is only worth testing against if it speaks OpenAI's format exactly: the official
/// OpenAI .NET client, talking to it directly, must read every reply, stream, tool call, embedding and error.
/// </summary>
public sealed class ScriptedUpstreamTests : IAsyncLifetime
{
    private ScriptedOpenAiUpstream upstream = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => upstream = await ScriptedOpenAiUpstream.StartAsync(Ct);

    public async ValueTask DisposeAsync() => await upstream.DisposeAsync();

    [Fact]
    public async Task The_official_client_reads_scripted_replies_streams_tool_calls_and_embeddings()
    {
        Assert.EndsWith("/v1/", upstream.BaseAddress.ToString(), StringComparison.Ordinal);
        upstream.Script("up-a", UpstreamStep.Reply("Hello there, tester", promptTokens: 11, completionTokens: 3, cachedTokens: 4));
        var chat = new ChatClient("up-a", new ApiKeyCredential("sk-direct"), Options());

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Ct);
        Assert.Equal("Hello there, tester", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(4, completion.Usage.InputTokenDetails.CachedTokenCount);

        var streamed = "";
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("please echo me")], cancellationToken: Ct))
        {
            streamed += string.Concat(update.ContentUpdate.Select(part => part.Text));
            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal("Scripted reply to: please echo me", streamed);
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(3, usage.InputTokenCount);
        Assert.Equal(6, usage.OutputTokenCount);

        upstream.Script("up-a", UpstreamStep.ToolCall("get_weather", """{"city":"Oslo"}"""));
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "The weather in a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")) },
        };
        ChatCompletion toolCall = await chat.CompleteChatAsync([new UserChatMessage("weather?")], options, Ct);
        Assert.Equal(ChatFinishReason.ToolCalls, toolCall.FinishReason);
        Assert.Equal("get_weather", toolCall.ToolCalls[0].FunctionName);
        Assert.Equal("Oslo", JsonDocument.Parse(toolCall.ToolCalls[0].FunctionArguments).RootElement.GetProperty("city").GetString());

        var embeddings = new EmbeddingClient("up-embed", new ApiKeyCredential("sk-direct"), Options());
        OpenAIEmbedding first = await embeddings.GenerateEmbeddingAsync("same text", cancellationToken: Ct);
        OpenAIEmbedding second = await embeddings.GenerateEmbeddingAsync("same text", cancellationToken: Ct);
        Assert.Equal(64, first.ToFloats().Length);
        Assert.Equal(first.ToFloats().ToArray(), second.ToFloats().ToArray());

        OpenAIModelCollection models = await new OpenAIModelClient(new ApiKeyCredential("sk-direct"), Options()).GetModelsAsync(Ct);
        Assert.Contains(models, model => model.Id == "up-a");

        Assert.Equal(5, upstream.Calls.Count(call => call.Model is "up-a" or "up-embed"));
        Assert.All(upstream.Calls, call => Assert.Equal("Bearer sk-direct", call.Authorization));
        Assert.Equal("weather?", upstream.CallsFor("up-a")[2].LastUserMessage);
        Assert.True(upstream.CallsFor("up-a")[1].Stream);
    }

    [Fact]
    public async Task Scripted_errors_are_openai_shaped_and_surface_in_the_official_client()
    {
        upstream.Script(
            "up-err",
            UpstreamStep.RateLimited(TimeSpan.FromSeconds(7)),
            UpstreamStep.ContextLengthExceeded(),
            UpstreamStep.ContentFiltered(),
            UpstreamStep.ServerError(503));
        var chat = new ChatClient("up-err", new ApiKeyCredential("sk-direct"), Options());

        var rateLimited = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")], cancellationToken: Ct));
        Assert.Equal(429, rateLimited.Status);
        Assert.Equal("7", rateLimited.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter) ? retryAfter : null);
        var error = JsonDocument.Parse(rateLimited.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);

        var context = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")], cancellationToken: Ct));
        Assert.Equal(400, context.Status);
        error = JsonDocument.Parse(context.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());

        var filtered = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")], cancellationToken: Ct));
        Assert.Equal(400, filtered.Status);
        Assert.Equal("content_filter", JsonDocument.Parse(filtered.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error").GetProperty("code").GetString());

        var unavailable = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("x")], cancellationToken: Ct));
        Assert.Equal(503, unavailable.Status);

        upstream.Script("up-err", UpstreamStep.ContentFilterFinish());
        ChatCompletion finished = await chat.CompleteChatAsync([new UserChatMessage("x")], cancellationToken: Ct);
        Assert.Equal(ChatFinishReason.ContentFilter, finished.FinishReason);
    }

    [Fact]
    public async Task Delays_are_cut_short_by_the_caller_and_broken_streams_break_the_connection()
    {
        upstream.Script("up-slow", UpstreamStep.Delay(TimeSpan.FromSeconds(30), UpstreamStep.Reply("late", 1, 1)));
        using var http = new HttpClient { BaseAddress = upstream.BaseAddress, Timeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAnyAsync<Exception>(() => http.PostAsync(
            new Uri("chat/completions", UriKind.Relative),
            new StringContent(ModelApi.Chat("up-slow", "hi").ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            Ct));

        upstream.Script("up-broken", UpstreamStep.BrokenStream(afterChunks: 2));
        using var streaming = new HttpClient { BaseAddress = new Uri(upstream.BaseAddress.GetLeftPart(UriPartial.Authority)) };
        var answer = await streaming.ChatStreamAsync(ModelApi.Chat("up-broken", "one two three four five").WithUsage());
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.NotNull(answer.Broken);
        Assert.False(answer.Done);
        Assert.Equal(3, answer.Chunks.Count);
        Assert.Equal("Scripted reply", answer.Text);

        var defaultStream = await streaming.ChatStreamAsync(ModelApi.Chat("up-default", "a b").WithUsage());
        Assert.True(defaultStream.Done, defaultStream.Describe);
        Assert.Null(defaultStream.Broken);
        Assert.Equal("text/event-stream", defaultStream.ContentType);
        var last = defaultStream.Chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal(2, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, defaultStream.Chunks[0].GetProperty("usage").ValueKind);
        Assert.Equal("stop", defaultStream.FinishReason);

        var plain = await streaming.ChatAsync(new JsonObject { ["model"] = "up-default", ["messages"] = new JsonArray() });
        plain.AssertOpenAiError(HttpStatusCode.BadRequest, type: "invalid_request_error");
    }

    private OpenAIClientOptions Options() => new()
    {
        Endpoint = new Uri(upstream.BaseAddress.ToString().TrimEnd('/')),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };
}
