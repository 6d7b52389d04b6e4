using System.Text.Json;
using AgentPlatform.Worker.Agents.MicroGraph;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Tests.MicroGraph;

/// <summary>
/// The micro graph on Microsoft Agent Framework workflows: tool loop, schema validation, repairs, limits. The model
/// is scripted (its answers are the test's input); the graph, the schema validation and the tools are real.
/// </summary>
public sealed class SubAgentGraphTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse("""
        { "type": "object",
          "properties": { "answer": { "type": "string", "minLength": 1 }, "confidence": { "type": "number", "minimum": 0, "maximum": 1 } },
          "required": ["answer", "confidence"], "additionalProperties": false }
        """).RootElement;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_valid_answer_finishes_the_run_with_its_output_and_usage()
    {
        var model = new ScriptedChatClient(_ => Answer("""{"answer":"42","confidence":0.9}"""));
        var result = await new SubAgentGraph(model).RunAsync(Input(maxRepairs: 2), Ct);

        Assert.Equal("42", result.Output.GetProperty("answer").GetString());
        Assert.Equal(0, result.Repairs);
        Assert.Equal(10, result.InputTokens);
        Assert.Equal(5, result.OutputTokens);
        Assert.Single(model.Calls);
        Assert.NotNull(model.Calls[0].Options?.ResponseFormat);
    }

    [Theory]
    [InlineData("not json at all", "It is not JSON")]
    [InlineData("""{"answer":"42","confidence":2}""", "does not match the output schema")]
    [InlineData("""{"answer":"","confidence":0.5}""", "does not match the output schema")]
    [InlineData("""{"answer":"42"}""", "does not match the output schema")]
    public async Task An_answer_outside_the_schema_is_sent_back_with_the_problem_and_repaired(string broken, string problem)
    {
        var model = new ScriptedChatClient(call => call == 0 ? Answer(broken) : Answer("""{"answer":"fixed","confidence":0.5}"""));
        var result = await new SubAgentGraph(model).RunAsync(Input(maxRepairs: 2), Ct);

        Assert.Equal("fixed", result.Output.GetProperty("answer").GetString());
        Assert.Equal(1, result.Repairs);
        var repairRequest = model.Calls[1].Messages[^1];
        Assert.Equal(ChatRole.User, repairRequest.Role);
        Assert.Contains(problem, repairRequest.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_still_invalid_after_every_repair_fails_the_run()
    {
        var model = new ScriptedChatClient(_ => Answer("""{"answer":"x","confidence":7}"""));
        var failure = await Assert.ThrowsAsync<SubAgentOutputInvalidException>(() => new SubAgentGraph(model).RunAsync(Input(maxRepairs: 2), Ct));

        Assert.Contains("after 2 repair(s)", failure.Message, StringComparison.Ordinal);
        Assert.Equal(3, model.Calls.Count);
    }

    [Fact]
    public async Task Checks_beyond_the_schema_are_repaired_too()
    {
        var model = new ScriptedChatClient(call => Answer(call == 0 ? """{"answer":"maybe","confidence":0.5}""" : """{"answer":"yes","confidence":0.5}"""));
        var input = Input(maxRepairs: 1) with { Validate = output => output.GetProperty("answer").GetString() == "maybe" ? "Say yes or no." : null };
        var result = await new SubAgentGraph(model).RunAsync(input, Ct);

        Assert.Equal("yes", result.Output.GetProperty("answer").GetString());
        Assert.Contains("Say yes or no.", model.Calls[1].Messages[^1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_calls_the_run_s_tools_and_answers_from_their_results()
    {
        var add = AIFunctionFactory.Create((int a, int b) => a + b, "add", "Adds two numbers.");
        var model = new ScriptedChatClient(call => call == 0
            ? ToolCall("call-1", "add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 })
            : Answer($$"""{"answer":"{{ToolResult(ScriptedChatClient.Last!)}}","confidence":1}"""));
        var result = await new SubAgentGraph(model).RunAsync(Input(maxRepairs: 0, tools: [add], maxToolCalls: 3), Ct);

        Assert.Equal("5", result.Output.GetProperty("answer").GetString());
        Assert.Equal(1, result.ToolCalls);
        Assert.NotNull(model.Calls[0].Options?.Tools);
    }

    [Fact]
    public async Task After_the_tool_call_limit_no_tools_are_offered_and_the_model_must_answer()
    {
        var calls = 0;
        var ping = AIFunctionFactory.Create(() => ++calls, "ping", "Counts.");
        var model = new ScriptedChatClient(call =>
            ScriptedChatClient.Last!.Options?.Tools is { Count: > 0 }
                ? ToolCall($"call-{call}", "ping", new Dictionary<string, object?>())
                : Answer("""{"answer":"done","confidence":0.5}"""));
        var result = await new SubAgentGraph(model).RunAsync(Input(maxRepairs: 0, tools: [ping], maxToolCalls: 2), Ct);

        Assert.Equal(2, calls);
        Assert.Equal(2, result.ToolCalls);
        Assert.Null(model.Calls[^1].Options?.Tools);
    }

    [Fact]
    public async Task A_tool_that_is_not_the_run_s_is_never_invoked()
    {
        var model = new ScriptedChatClient(call => call == 0
            ? ToolCall("call-1", "delete_everything", new Dictionary<string, object?>())
            : Answer($$"""{"answer":{{JsonSerializer.Serialize(ToolResult(ScriptedChatClient.Last!))}},"confidence":0}"""));
        var result = await new SubAgentGraph(model).RunAsync(Input(maxRepairs: 0, tools: [AIFunctionFactory.Create(() => 1, "one")], maxToolCalls: 3), Ct);

        Assert.Contains("'delete_everything' is not a tool of this sub-agent", result.Output.GetProperty("answer").GetString(), StringComparison.Ordinal);
    }

    private static SubAgentGraphInput Input(int maxRepairs, IReadOnlyList<AIFunction>? tools = null, int maxToolCalls = 0) => new(
        new SubAgentSpec("test-agent", "1.0.0", Schema, maxToolCalls, maxRepairs),
        [new ChatMessage(ChatRole.System, "You answer."), new ChatMessage(ChatRole.User, "Question: what is 2 + 3?")],
        tools ?? [],
        256);

    private static ChatResponse Answer(string text) =>
        new(new ChatMessage(ChatRole.Assistant, text)) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5 } };

    private static ChatResponse ToolCall(string id, string name, Dictionary<string, object?> arguments) =>
        new(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent(id, name, arguments)])) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5 } };

    private static string ToolResult(ScriptedChatClient.Call call) =>
        call.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Last().Result?.ToString() ?? "";
}

/// <summary>A model whose answers the test scripts, by call number; it records what it was asked.</summary>
internal sealed class ScriptedChatClient(Func<int, ChatResponse> answer) : IChatClient
{
    private static readonly AsyncLocal<Call?> Current = new();

    public sealed record Call(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options);

    /// <summary>The call being answered (for scripts that answer from what they were sent).</summary>
    public static Call? Last => Current.Value;

    public List<Call> Calls { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = new Call([.. messages], options);
        Calls.Add(call);
        Current.Value = call;
        return Task.FromResult(answer(Calls.Count - 1));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
