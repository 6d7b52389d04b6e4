using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Testing.ModelUpstream;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

public sealed class ChatFixture : ModelGatewayFixture
{
    protected override IEnumerable<TestRoute> Routes { get; } =
    [
        TestRoute.Of("chat-basic", 1),
        TestRoute.Of("chat-stream", 1),
        TestRoute.Of("chat-tools", 1),
        TestRoute.Of("emb-basic", 1),
        TestRoute.Of("correlated", 1),
        TestRoute.Of("busy", 2),
        TestRoute.Of("dry", 1, fallbacks: "dry-backup"),
        TestRoute.Of("dry-backup", 1),
    ];
}

/// <summary>
/// The OpenAI-compatible API through the platform's public address: chat (plain, streamed, tools, structured
/// output), models, embeddings, the offline default routes, OpenAI-shaped errors, dry-run hooks, correlation
/// and many callers at once, against a real upstream speaking OpenAI's format.
/// </summary>
public sealed class ChatContract(ChatFixture fixture) : IClassFixture<ChatFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chat_completion_is_routed_to_the_deployment_and_answered_in_openai_shape_with_gateway_headers()
    {
        var platform = await fixture.GetAsync();
        fixture.Upstream.Script("chat-basic-a", UpstreamStep.Reply("Routed answer", promptTokens: 12, completionTokens: 2, cachedTokens: 5));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatAsync(ModelApi.Chat("chat-basic", "hello gateway"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        var json = answer.Json;
        Assert.StartsWith("chatcmpl", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("created").ValueKind);
        Assert.Equal(JsonValueKind.String, json.GetProperty("model").ValueKind);
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Routed answer", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(12, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(2, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(14, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(5, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());

        Assert.Equal("chat-basic", answer.Header("x-agentplatform-model-requested"));
        Assert.Equal("chat-basic-a", answer.Header("x-agentplatform-model-served"));
        Assert.Equal("a", answer.Header("x-agentplatform-deployment"));
        Assert.Equal("1", answer.Header("x-agentplatform-attempts"));
        Assert.Contains(answer.Headers.Keys, name => name.StartsWith("x-ratelimit-", StringComparison.Ordinal));
        Assert.Null(answer.Header("x-agentplatform-offline"));

        var call = Assert.Single(fixture.Upstream.CallsFor("chat-basic-a"));
        Assert.Equal($"Bearer {ModelGatewayFixture.ProviderKey}", call.Authorization);
        Assert.Equal("hello gateway", call.LastUserMessage);
        Assert.False(call.Stream);
    }

    [Fact]
    public async Task A_streamed_completion_arrives_as_sse_chunks_with_a_final_usage_chunk_and_done()
    {
        var platform = await fixture.GetAsync();
        fixture.Upstream.Script("chat-stream-a", UpstreamStep.Reply("one two three four", promptTokens: 7, completionTokens: 4));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var answer = await client.ChatStreamAsync(ModelApi.Chat("chat-stream", "count").WithUsage());

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Equal("text/event-stream", answer.ContentType);
        Assert.True(answer.Done, answer.Describe);
        Assert.Null(answer.Broken);
        Assert.Equal("one two three four", answer.Text);
        Assert.Equal("stop", answer.FinishReason);
        Assert.All(answer.Chunks, chunk => Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString()));
        Assert.Single(answer.Chunks.Select(chunk => chunk.GetProperty("id").GetString()).Distinct());
        var last = answer.Chunks[^1];
        Assert.Equal(0, last.GetProperty("choices").GetArrayLength());
        Assert.Equal(7, last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(4, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("chat-stream", answer.Header("x-agentplatform-model-requested"));
        Assert.Equal("a", answer.Header("x-agentplatform-deployment"));
        Assert.Equal("1", answer.Header("x-agentplatform-attempts"));
        Assert.True(Assert.Single(fixture.Upstream.CallsFor("chat-stream-a")).Stream);
    }

    [Fact]
    public async Task Tool_calls_come_back_and_a_json_schema_response_format_is_passed_through()
    {
        var platform = await fixture.GetAsync();
        fixture.Upstream.Script(
            "chat-tools-a",
            UpstreamStep.ToolCall("get_weather", """{"city":"Oslo"}"""),
            UpstreamStep.Json("""{"city":"Oslo","celsius":4}"""));
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var toolRequest = ModelApi.Chat("chat-tools", "weather in Oslo?");
        toolRequest["tools"] = JsonNode.Parse("""
            [{"type":"function","function":{"name":"get_weather","description":"Weather of a city",
              "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]
            """);
        var toolAnswer = await client.ChatAsync(toolRequest);
        Assert.True(toolAnswer.Status == HttpStatusCode.OK, toolAnswer.Describe);
        var choice = toolAnswer.Json.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var toolCall = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("function", toolCall.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(toolCall.GetProperty("id").GetString()));
        Assert.Equal("get_weather", toolCall.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("Oslo", JsonDocument.Parse(toolCall.GetProperty("function").GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        var sentTools = fixture.Upstream.CallsFor("chat-tools-a")[0].Request.GetProperty("tools");
        Assert.Equal("get_weather", sentTools[0].GetProperty("function").GetProperty("name").GetString());

        var schemaRequest = ModelApi.Chat("chat-tools", "weather as JSON");
        schemaRequest["response_format"] = JsonNode.Parse("""
            {"type":"json_schema","json_schema":{"name":"weather","strict":true,
              "schema":{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},
                        "required":["city","celsius"],"additionalProperties":false}}}
            """);
        var schemaAnswer = await client.ChatAsync(schemaRequest);
        Assert.True(schemaAnswer.Status == HttpStatusCode.OK, schemaAnswer.Describe);
        Assert.Equal(4, JsonDocument.Parse(schemaAnswer.Content).RootElement.GetProperty("celsius").GetInt32());
        var sentFormat = fixture.Upstream.CallsFor("chat-tools-a")[1].Request.GetProperty("response_format");
        Assert.Equal("json_schema", sentFormat.GetProperty("type").GetString());
        Assert.Equal("weather", sentFormat.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.Equal(
            ["city", "celsius"],
            sentFormat.GetProperty("json_schema").GetProperty("schema").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Models_lists_the_callers_route_aliases_and_embeddings_take_a_string_or_an_array()
    {
        var platform = await fixture.GetAsync();
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        var models = await client.ModelsAsync();
        Assert.True(models.Status == HttpStatusCode.OK, models.Describe);
        Assert.Equal("list", models.Json.GetProperty("object").GetString());
        var listed = models.Json.GetProperty("data").EnumerateArray().ToList();
        Assert.All(listed, model =>
        {
            Assert.Equal("model", model.GetProperty("object").GetString());
            Assert.Equal(JsonValueKind.String, model.GetProperty("owned_by").ValueKind);
        });
        var ids = listed.Select(model => model.GetProperty("id").GetString()).ToList();
        Assert.Contains("chat-basic", ids);
        Assert.Contains("emb-basic", ids);
        Assert.Contains("default", ids);
        Assert.Contains("text-embedding-default", ids);
        Assert.DoesNotContain("chat-basic-a", ids);

        var single = await client.EmbeddingsAsync(new JsonObject { ["model"] = "emb-basic", ["input"] = "one text" });
        Assert.True(single.Status == HttpStatusCode.OK, single.Describe);
        Assert.Equal("list", single.Json.GetProperty("object").GetString());
        var embedding = Assert.Single(single.Json.GetProperty("data").EnumerateArray());
        Assert.Equal("embedding", embedding.GetProperty("object").GetString());
        Assert.Equal(64, embedding.GetProperty("embedding").GetArrayLength());
        Assert.True(single.Json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal("emb-basic", single.Header("x-agentplatform-model-requested"));
        Assert.Equal("a", single.Header("x-agentplatform-deployment"));

        var batch = await client.EmbeddingsAsync(new JsonObject { ["model"] = "emb-basic", ["input"] = new JsonArray("first", "second", "one text") });
        Assert.True(batch.Status == HttpStatusCode.OK, batch.Describe);
        var data = batch.Json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], data.Select(d => d.GetProperty("index").GetInt32()));
        Assert.Equal(
            embedding.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()),
            data[2].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal(2, fixture.Upstream.CallsFor("emb-basic-a").Count);
    }

    [Fact]
    public async Task The_default_routes_answer_offline_deterministically_and_say_so()
    {
        var platform = await fixture.GetAsync();
        using var client = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = fixture.Upstream.Calls.Count;

        var first = await client.ChatAsync(ModelApi.Chat("default", "Summarise the platform in one line."));
        var second = await client.ChatAsync(ModelApi.Chat("default", "Summarise the platform in one line."));
        Assert.True(first.Status == HttpStatusCode.OK, first.Describe);
        Assert.Equal(first.Content, second.Content);
        Assert.False(string.IsNullOrWhiteSpace(first.Content));
        Assert.Equal("true", first.Header("x-agentplatform-offline"));
        Assert.Equal("agentplatform-offline", first.Json.GetProperty("system_fingerprint").GetString());
        Assert.Equal("default", first.Header("x-agentplatform-model-requested"));

        var streamed = await client.ChatStreamAsync(ModelApi.Chat("default", "Summarise the platform in one line.").WithUsage());
        Assert.True(streamed.Done, streamed.Describe);
        Assert.Equal("true", streamed.Header("x-agentplatform-offline"));
        Assert.Equal(first.Content, streamed.Text);
        Assert.All(streamed.Chunks, chunk => Assert.Equal("agentplatform-offline", chunk.GetProperty("system_fingerprint").GetString()));
        Assert.Equal(0, streamed.Chunks[^1].GetProperty("choices").GetArrayLength());

        var embedded = await client.EmbeddingsAsync(new JsonObject { ["model"] = "text-embedding-default", ["input"] = new JsonArray("a", "b") });
        var again = await client.EmbeddingsAsync(new JsonObject { ["model"] = "text-embedding-default", ["input"] = "a" });
        Assert.True(embedded.Status == HttpStatusCode.OK, embedded.Describe);
        Assert.Equal("true", embedded.Header("x-agentplatform-offline"));
        Assert.Equal(2, embedded.Json.GetProperty("data").GetArrayLength());
        Assert.Equal(
            embedded.Json.GetProperty("data")[0].GetProperty("embedding").GetRawText(),
            again.Json.GetProperty("data")[0].GetProperty("embedding").GetRawText());
        Assert.Equal(before, fixture.Upstream.Calls.Count);
    }

    [Fact]
    public async Task Bad_requests_and_bad_callers_get_openai_shaped_errors()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());

        var invalidJson = await admin.SendModelAsync(HttpMethod.Post, "/v1/chat/completions", "{\"model\": \"chat-basic\", ");
        invalidJson.AssertOpenAiError(HttpStatusCode.BadRequest, type: "invalid_request_error");

        var noModel = await admin.SendModelAsync(HttpMethod.Post, "/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""");
        noModel.AssertOpenAiError(HttpStatusCode.BadRequest, type: "invalid_request_error");

        var noMessages = await admin.SendModelAsync(HttpMethod.Post, "/v1/chat/completions", """{"model":"chat-basic"}""");
        noMessages.AssertOpenAiError(HttpStatusCode.BadRequest, type: "invalid_request_error");

        var unknown = await admin.ChatAsync(ModelApi.Chat("no-such-model", "hi"));
        unknown.AssertOpenAiError(HttpStatusCode.NotFound, code: "model_not_found");
        var unknownEmbedding = await admin.EmbeddingsAsync(new JsonObject { ["model"] = "no-such-model", ["input"] = "x" });
        unknownEmbedding.AssertOpenAiError(HttpStatusCode.NotFound, code: "model_not_found");

        using (var anonymous = platform.CreateClient(null))
        {
            (await anonymous.ChatAsync(ModelApi.Chat("chat-basic", "hi"))).AssertOpenAiError(HttpStatusCode.Unauthorized);
            (await anonymous.ModelsAsync()).AssertOpenAiError(HttpStatusCode.Unauthorized);
        }

        using (var forged = platform.CreateClient("apk_this-key-does-not-exist-0000000000000000"))
        {
            (await forged.ChatAsync(ModelApi.Chat("chat-basic", "hi"))).AssertOpenAiError(HttpStatusCode.Unauthorized);
        }

        var viewer = await platform.CreateUserAsync("viewer", Roles.Viewer);
        using (var asViewer = platform.CreateClient(await platform.SignInAsync(viewer, AuthServer.Password)))
        {
            (await asViewer.ChatAsync(ModelApi.Chat("chat-basic", "hi"))).AssertOpenAiError(HttpStatusCode.Forbidden);
        }

        Assert.Empty(fixture.Upstream.CallsFor("no-such-model"));
    }

    [Fact]
    public async Task Dry_run_hooks_mock_the_answer_or_force_the_fallback_and_need_their_permission()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());

        var mockRequest = ModelApi.Chat("dry", "anything");
        mockRequest["agentplatform"] = new JsonObject { ["mock_response"] = "Mocked, no model was harmed." };
        var mocked = await admin.ChatAsync(mockRequest);
        Assert.True(mocked.Status == HttpStatusCode.OK, mocked.Describe);
        Assert.Equal("Mocked, no model was harmed.", mocked.Content);
        Assert.Empty(fixture.Upstream.CallsFor("dry-a"));
        Assert.Empty(fixture.Upstream.CallsFor("dry-backup-a"));

        var mockedStream = await admin.ChatStreamAsync(((JsonObject)mockRequest.DeepClone()).WithUsage());
        Assert.True(mockedStream.Done, mockedStream.Describe);
        Assert.Equal("Mocked, no model was harmed.", mockedStream.Text);
        Assert.Empty(fixture.Upstream.CallsFor("dry-a"));

        var forceRequest = ModelApi.Chat("dry", "use the fallback");
        forceRequest["agentplatform"] = new JsonObject { ["force_fallback"] = true };
        var forced = await admin.ChatAsync(forceRequest);
        Assert.True(forced.Status == HttpStatusCode.OK, forced.Describe);
        Assert.Equal("dry-backup-a", forced.Header("x-agentplatform-model-served"));
        Assert.Empty(fixture.Upstream.CallsFor("dry-a"));
        Assert.Single(fixture.Upstream.CallsFor("dry-backup-a"));

        var operatorName = await platform.CreateUserAsync("operator", Roles.Operator);
        using var asOperator = platform.CreateClient(await platform.SignInAsync(operatorName, AuthServer.Password));
        var plain = await asOperator.ChatAsync(ModelApi.Chat("dry", "models:use is enough for this"));
        Assert.True(plain.Status == HttpStatusCode.OK, plain.Describe);
        (await asOperator.ChatAsync(mockRequest)).AssertOpenAiError(HttpStatusCode.Forbidden, code: "permission_denied");
        (await asOperator.ChatAsync(forceRequest)).AssertOpenAiError(HttpStatusCode.Forbidden, code: "permission_denied");
        Assert.Single(fixture.Upstream.CallsFor("dry-a"));
        Assert.Single(fixture.Upstream.CallsFor("dry-backup-a"));
    }

    [Fact]
    public async Task Correlation_headers_of_platform_services_end_up_in_the_usage_record_but_outsiders_cannot_forge_them()
    {
        var platform = await fixture.GetAsync();
        var token = await platform.SignInAsAdminAsync();
        using var admin = platform.CreateClient(token);
        var taskId = $"task-{Guid.NewGuid():N}";
        var headers = new Dictionary<string, string>
        {
            ["x-task-id"] = taskId,
            ["x-main-agent-id"] = "main-agent-7",
            ["x-sub-agent-id"] = "sub-agent-3",
        };

        // The worker calls the model gateway inside the platform, where correlation headers are trusted.
        var modelGatewayAddress = platform.GatewayServices.GetRequiredService<IConfiguration>()["services:modelgateway:http:0"]!;
        using (var insider = new HttpClient { BaseAddress = new Uri(modelGatewayAddress) })
        {
            insider.DefaultRequestHeaders.Authorization = ModelApi.Bearer(token);
            var answer = await insider.ChatAsync(ModelApi.Chat("correlated", "who am I working for?"), headers);
            Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        }

        var call = Assert.Single(await WaitForUsageAsync(admin, $"taskId={taskId}", expected: 1));
        Assert.Equal(taskId, call.GetProperty("taskId").GetString());
        Assert.Equal("main-agent-7", call.GetProperty("mainAgentId").GetString());
        Assert.Equal("sub-agent-3", call.GetProperty("subAgentId").GetString());
        Assert.Equal("correlated", call.GetProperty("modelRequested").GetString());
        Assert.Equal("a", call.GetProperty("deployment").GetString());

        // Through the public edge the same headers are dropped: an outside caller cannot attribute usage to a task.
        var forgedTaskId = $"task-{Guid.NewGuid():N}";
        var outside = await admin.ChatAsync(ModelApi.Chat("correlated", "forge it"), new Dictionary<string, string>(headers) { ["x-task-id"] = forgedTaskId });
        Assert.True(outside.Status == HttpStatusCode.OK, outside.Describe);
        var recorded = await WaitForUsageAsync(admin, "model=correlated", expected: 2);
        Assert.Equal(2, recorded.Count);
        Assert.DoesNotContain(recorded, c => c.GetProperty("taskId").ValueKind == JsonValueKind.String && c.GetProperty("taskId").GetString() == forgedTaskId);
    }

    [Fact]
    public async Task Thirty_two_concurrent_callers_all_get_their_own_answer_and_are_all_accounted()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (key, keyId) = await admin.CreateApiKeyWithIdAsync(Roles.Developer);
        using var client = platform.CreateClient(key);

        var answers = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => AnswerTextAsync(client, i)));

        for (var i = 0; i < answers.Length; i++)
        {
            Assert.Equal($"Scripted reply to: caller {i}", answers[i]);
        }

        Assert.Equal(32, fixture.Upstream.CallsFor("busy-a").Count + fixture.Upstream.CallsFor("busy-b").Count);
        var calls = await WaitForUsageAsync(admin, $"apiKeyId={keyId}&model=busy", expected: 32);
        Assert.Equal(32, calls.Count);
        Assert.All(calls, call => Assert.Equal("ok", call.GetProperty("outcome").GetString()));
    }

    /// <summary>Half the callers stream, half do not; either way the text must be their own.</summary>
    private static async Task<string> AnswerTextAsync(HttpClient client, int i)
    {
        if (i % 2 == 0)
        {
            var plain = await client.ChatAsync(ModelApi.Chat("busy", $"caller {i}"));
            Assert.True(plain.Status == HttpStatusCode.OK, plain.Describe);
            return plain.Content;
        }

        var streamed = await client.ChatStreamAsync(ModelApi.Chat("busy", $"caller {i}").WithUsage());
        Assert.True(streamed.Status == HttpStatusCode.OK && streamed.Done && streamed.Broken is null, streamed.Describe);
        return streamed.Text;
    }

    /// <summary>Usage is recorded after the answer; waits (bounded) until <paramref name="expected"/> calls are there.</summary>
    internal static async Task<IReadOnlyList<JsonElement>> WaitForUsageAsync(HttpClient admin, string filter, int expected)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (true)
        {
            using var response = await admin.GetAsync(new Uri($"/api/model-usage/calls?{filter}&pageSize=200", UriKind.Relative), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /api/model-usage/calls?{filter}: {(int)response.StatusCode} {text}");
            var items = JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().Select(item => item.Clone()).ToList();
            if (items.Count >= expected || DateTimeOffset.UtcNow > deadline)
            {
                return items;
            }

            await Task.Delay(100, Ct);
        }
    }
}
