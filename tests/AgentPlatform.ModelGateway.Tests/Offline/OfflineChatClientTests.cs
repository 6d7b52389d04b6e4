using AgentPlatform.Infrastructure.Tokens;
using System.Text.Json;
using AgentPlatform.ModelGateway.Providers.Offline;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Tests.Offline;

public sealed class OfflineChatClientTests : IDisposable
{
    private const string ModelName = "offline-small";

    private readonly O200kTokenEstimator estimator = new();
    private readonly OfflineChatClient client;

    public OfflineChatClientTests() => client = new OfflineChatClient(ModelName, estimator);

    public void Dispose() => client.Dispose();

    [Fact]
    public async Task Plain_text_reply_is_marked_offline_and_echoes_the_request()
    {
        var response = await client.GetResponseAsync("Summarise the quarterly report for the board.", cancellationToken: TestContext.Current.CancellationToken);

        Assert.StartsWith("[offline]", response.Text, StringComparison.Ordinal);
        Assert.Contains("Summarise the quarterly report for the board.", response.Text, StringComparison.Ordinal);
        Assert.Equal(ModelName, response.ModelId);
        Assert.StartsWith(OfflineChatClient.IdPrefix, response.ResponseId, StringComparison.Ordinal);
        Assert.Equal(response.ResponseId, response.Messages.Single().MessageId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(true, response.AdditionalProperties?[OfflineChatClient.OfflinePropertyName]);
    }

    [Fact]
    public async Task Same_input_gives_the_same_reply_and_different_input_a_different_id()
    {
        var first = await client.GetResponseAsync("one question", cancellationToken: TestContext.Current.CancellationToken);
        var again = await client.GetResponseAsync("one question", cancellationToken: TestContext.Current.CancellationToken);
        var other = await client.GetResponseAsync("another question", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.ResponseId, again.ResponseId);
        Assert.NotEqual(first.ResponseId, other.ResponseId);
    }

    [Fact]
    public async Task Usage_counts_input_from_the_messages_and_output_from_the_reply()
    {
        List<ChatMessage> messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "hello world")];

        var response = await client.GetResponseAsync(messages, cancellationToken: TestContext.Current.CancellationToken);

        var input = estimator.CountChatTokens([new("system", "Be brief."), new("user", "hello world")]);
        Assert.Equal(input, response.Usage?.InputTokenCount);
        Assert.Equal(estimator.CountTokens(response.Text), response.Usage?.OutputTokenCount);
        Assert.Equal(response.Usage?.InputTokenCount + response.Usage?.OutputTokenCount, response.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task Usage_includes_the_response_schema()
    {
        const string schema = """{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}""";

        var response = await client.GetResponseAsync("hello world", OfflineSchemaTests.Options(schema, "a"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(estimator.CountChatTokens([new("user", "hello world")], schema), response.Usage?.InputTokenCount);
    }

    [Theory]
    [InlineData("Plain question about the weather in Oslo.", null)]
    [InlineData("[agentplatform:plan]\nBook a flight to Oslo. Then reserve a hotel.", null)]
    [InlineData("Call get_weather for city: Oslo", "tools")]
    [InlineData("[agentplatform:judge]\nQuestion: capital of France?\nAnswer: Paris", "schema")]
    public async Task Streaming_matches_the_non_streaming_response(string prompt, string? extras)
    {
        var options = extras switch
        {
            "tools" => ToolOptions(),
            "schema" => OfflineSchemaTests.Options(JudgeSchema, "judge"),
            _ => null,
        };

        var response = await client.GetResponseAsync(prompt, options, cancellationToken: TestContext.Current.CancellationToken);
        var updates = await client.GetStreamingResponseAsync(prompt, options, cancellationToken: TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken);
        var streamed = updates.ToChatResponse();

        if (extras != "tools")
        {
            Assert.True(updates.Count > 2, "the reply streams as several chunks");
        }

        Assert.All(updates, u => Assert.Equal(true, u.AdditionalProperties?[OfflineChatClient.OfflinePropertyName]));
        Assert.All(updates, u => Assert.Equal(response.ResponseId, u.ResponseId));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        Assert.IsType<UsageContent>(Assert.Single(updates[^1].Contents));
        Assert.Equal(response.Text, streamed.Text);
        Assert.Equal(response.ResponseId, streamed.ResponseId);
        Assert.Equal(response.ModelId, streamed.ModelId);
        Assert.Equal(response.FinishReason, streamed.FinishReason);
        Assert.Equal(response.Usage?.InputTokenCount, streamed.Usage?.InputTokenCount);
        Assert.Equal(response.Usage?.OutputTokenCount, streamed.Usage?.OutputTokenCount);
        Assert.Equal(response.Usage?.TotalTokenCount, streamed.Usage?.TotalTokenCount);
        Assert.Equal(
            JsonSerializer.Serialize(response.Messages.Single().Contents.OfType<FunctionCallContent>().Select(c => new { c.CallId, c.Name, c.Arguments })),
            JsonSerializer.Serialize(streamed.Messages.Single().Contents.OfType<FunctionCallContent>().Select(c => new { c.CallId, c.Name, c.Arguments })));
    }

    [Fact]
    public async Task Required_tool_mode_calls_a_tool_with_schema_valid_arguments()
    {
        var options = ToolOptions();
        options.ToolMode = ChatToolMode.RequireAny;

        var response = await client.GetResponseAsync("What's the weather like? city: Oslo, days: 3", options, cancellationToken: TestContext.Current.CancellationToken);

        var call = Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages.Single().Contents));
        Assert.Equal("get_weather", call.Name);
        Assert.StartsWith("call_offline_", call.CallId, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var arguments = SchemaAssert.Valid(WeatherSchema, JsonSerializer.Serialize(call.Arguments));
        Assert.Equal("Oslo", arguments.GetProperty("city").GetString());
        Assert.Equal(3, arguments.GetProperty("days").GetInt32());
        Assert.True(response.Usage?.OutputTokenCount > 0);
    }

    [Fact]
    public async Task Require_specific_picks_that_tool_and_none_never_calls()
    {
        var options = ToolOptions();
        options.ToolMode = ChatToolMode.RequireSpecific("search_web");
        var specific = await client.GetResponseAsync("Call get_weather please", options, cancellationToken: TestContext.Current.CancellationToken);
        options.ToolMode = ChatToolMode.None;
        var none = await client.GetResponseAsync("Call get_weather please", options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("search_web", Assert.IsType<FunctionCallContent>(specific.Messages.Single().Contents.Single()).Name);
        Assert.StartsWith("[offline]", none.Text, StringComparison.Ordinal);
        Assert.Empty(none.Messages.Single().Contents.OfType<FunctionCallContent>());
    }

    [Fact]
    public async Task Auto_mode_calls_a_tool_only_when_the_user_names_it()
    {
        var named = await client.GetResponseAsync("Use search_web to find the release notes", ToolOptions(), cancellationToken: TestContext.Current.CancellationToken);
        var unnamed = await client.GetResponseAsync("Find the release notes", ToolOptions(), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("search_web", Assert.IsType<FunctionCallContent>(named.Messages.Single().Contents.Single()).Name);
        Assert.Equal(ChatFinishReason.Stop, unnamed.FinishReason);
    }

    [Fact]
    public async Task After_a_tool_result_the_reply_uses_it()
    {
        var options = ToolOptions();
        options.ToolMode = ChatToolMode.RequireAny;
        List<ChatMessage> messages = [new(ChatRole.User, "Weather in Oslo? city: Oslo")];
        var call = (await client.GetResponseAsync(messages, options, cancellationToken: TestContext.Current.CancellationToken)).Messages.Single();
        var callContent = call.Contents.OfType<FunctionCallContent>().Single();
        messages.Add(call);
        messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callContent.CallId, "Sunny, 21 °C")]));

        var response = await client.GetResponseAsync(messages, options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("[offline] get_weather returned: Sunny, 21 °C", response.Text);
    }

    [Fact]
    public void GetService_returns_metadata_and_itself()
    {
        var metadata = client.GetService<ChatClientMetadata>();

        Assert.Equal(ModelName, metadata?.DefaultModelId);
        Assert.Equal(OfflineChatClient.ProviderName, metadata?.ProviderName);
        Assert.Same(client, client.GetService<OfflineChatClient>());
        Assert.Null(client.GetService(typeof(ChatClientMetadata), "key"));
    }

    internal const string JudgeSchema = """{"type":"object","properties":{"score":{"type":"integer","minimum":1,"maximum":5},"pass":{"type":"boolean"},"rationale":{"type":"string"}},"required":["score","pass","rationale"],"additionalProperties":false}""";

    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city","days"]}""";

    private static ChatOptions ToolOptions() => new()
    {
        Tools =
        [
            AIFunctionFactory.CreateDeclaration("search_web", "Search the web for pages and documents.", Schema("""{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}""")),
            AIFunctionFactory.CreateDeclaration("get_weather", "Current weather forecast for a city.", Schema(WeatherSchema)),
        ],
    };

    private static JsonElement Schema(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
