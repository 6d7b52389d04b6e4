using AgentPlatform.Infrastructure.Tokens;
using System.Text.Json;
using AgentPlatform.ModelGateway.Providers.Offline;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Tests.Offline;

/// <summary>The five structured prompts, each with a realistic schema, as the main chain writes them.</summary>
public sealed class OfflineMarkerPromptTests : IDisposable
{
    private const string PlanSchema = """
        {"type":"object","properties":{
          "goal":{"type":"string"},
          "subtasks":{"type":"array","minItems":1,"maxItems":6,"items":{"$ref":"#/$defs/subtask"}}},
         "required":["goal","subtasks"],"additionalProperties":false,
         "$defs":{"subtask":{"type":"object","properties":{
            "id":{"type":"string"},"description":{"type":"string","minLength":1},
            "domain":{"type":"string","enum":["billing-agent","travel-agent","general"]},
            "dependsOn":{"type":"array","items":{"type":"string"}}},
          "required":["id","description","domain","dependsOn"],"additionalProperties":false}}}
        """;

    private const string RouteSchema = """
        {"type":"object","properties":{"assignments":{"type":"array","items":{"type":"object","properties":{
            "subtaskId":{"type":"integer"},"subAgentId":{"type":"string"},"confidence":{"type":"number","minimum":0,"maximum":1}},
          "required":["subtaskId","subAgentId","confidence"],"additionalProperties":false}}},
         "required":["assignments"],"additionalProperties":false}
        """;

    private const string AnswerSchema = """
        {"type":"object","properties":{"answer":{"type":"string","maxLength":400},"citations":{"type":"array","items":{"type":"string"}}},
         "required":["answer","citations"],"additionalProperties":false}
        """;

    private const string AggregateSchema = """
        {"type":"object","properties":{"summary":{"type":"string"},"sources":{"type":"array","items":{"type":"string"}}},
         "required":["summary","sources"],"additionalProperties":false}
        """;

    private const string Candidates = """
        Candidates:
        - billing-agent: invoices, refunds, payments and charges
        - travel-agent: flights, hotels and trip bookings
        """;

    private readonly OfflineChatClient client = new("offline-small", new O200kTokenEstimator());

    public void Dispose() => client.Dispose();

    [Fact]
    public async Task Plan_splits_the_task_into_subtasks_with_domains()
    {
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "[agentplatform:plan] Break the task into subtasks.\n" + Candidates),
            new(ChatRole.User, "Refund the duplicate hotel charge. Then book a flight to Oslo for Friday."),
        ];

        var json = await Structured(messages, PlanSchema);

        var subtasks = json.GetProperty("subtasks").EnumerateArray().ToList();
        Assert.Equal(2, subtasks.Count);
        Assert.Equal("1", subtasks[0].GetProperty("id").GetString());
        Assert.Equal("Refund the duplicate hotel charge", subtasks[0].GetProperty("description").GetString());
        Assert.Equal("billing-agent", subtasks[0].GetProperty("domain").GetString());
        Assert.Equal("book a flight to Oslo for Friday", subtasks[1].GetProperty("description").GetString());
        Assert.Equal("travel-agent", subtasks[1].GetProperty("domain").GetString());
        Assert.Equal(["1"], subtasks[1].GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
    }

    [Fact]
    public async Task Route_assigns_each_subtask_to_the_best_matching_candidate()
    {
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "[agentplatform:route] Assign each subtask to one candidate.\n" + Candidates),
            new(ChatRole.User, "Subtasks:\n1. Book a hotel in Oslo\n2. Refund the duplicate charge on the invoice"),
        ];

        var json = await Structured(messages, RouteSchema);

        var assignments = json.GetProperty("assignments").EnumerateArray().ToList();
        Assert.Equal(2, assignments.Count);
        Assert.Equal("travel-agent", assignments[0].GetProperty("subAgentId").GetString());
        Assert.Equal("billing-agent", assignments[1].GetProperty("subAgentId").GetString());
        Assert.Equal(2, assignments[1].GetProperty("subtaskId").GetInt32());
        Assert.InRange(assignments[1].GetProperty("confidence").GetDouble(), 0.4, 1);
    }

    [Fact]
    public async Task Plan_fills_string_steps_and_route_respects_an_enum_of_agent_ids()
    {
        const string stepsSchema = """{"type":"object","properties":{"steps":{"type":"array","items":{"type":"string"},"minItems":1}},"required":["steps"],"additionalProperties":false}""";
        const string enumSchema = """{"type":"object","properties":{"agent":{"type":"string","enum":["billing-agent","travel-agent"]},"confidence":{"type":"number","minimum":0,"maximum":1},"rationale":{"type":"string"}},"required":["agent","confidence","rationale"],"additionalProperties":false}""";

        var plan = await Structured([new(ChatRole.User, "[agentplatform:plan]\nTask: Compare hotel prices; write a short report")], stepsSchema);
        var route = await Structured([new(ChatRole.User, "[agentplatform:route]\n" + Candidates + "\nRefund the payment for invoice 7")], enumSchema);

        Assert.Equal(["Compare hotel prices", "write a short report"], plan.GetProperty("steps").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("billing-agent", route.GetProperty("agent").GetString());
        Assert.Contains("refund", route.GetProperty("rationale").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answer_gives_a_short_offline_answer_using_the_context()
    {
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "[agentplatform:answer] Answer from the context."),
            new(ChatRole.User, "Question: When does the office open?\nContext: The office opens at 9 am. It closes at 5 pm."),
        ];

        var json = await Structured(messages, AnswerSchema);

        Assert.Equal("[offline] Based on the context: The office opens at 9 am.", json.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task Aggregate_joins_the_sub_results()
    {
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "[agentplatform:aggregate] Combine the results."),
            new(ChatRole.User, "Results:\n- billing-agent: Refund of 42 EUR issued.\n- travel-agent: Flight OS123 booked for Friday."),
        ];

        var json = await Structured(messages, AggregateSchema);

        Assert.Equal(
            "[offline] Combined 2 result(s): Refund of 42 EUR issued.; Flight OS123 booked for Friday.",
            json.GetProperty("summary").GetString());
        Assert.Equal(["billing-agent", "travel-agent"], json.GetProperty("sources").EnumerateArray().Select(s => s.GetString()));
    }

    [Theory]
    [InlineData("Expected: Paris is the capital of France\nAnswer: The capital of France is Paris.", 5, true)]
    [InlineData("Expected: Paris is the capital of France\nAnswer: I do not know.", 1, false)]
    [InlineData("Expected: Paris is the capital of France\nAnswer:", 1, false)]
    public async Task Judge_scores_within_the_schema_bounds(string body, int score, bool passed)
    {
        List<ChatMessage> messages = [new(ChatRole.User, "[agentplatform:judge]\nQuestion: What is the capital of France?\n" + body)];

        var json = await Structured(messages, OfflineChatClientTests.JudgeSchema);

        Assert.Equal(score, json.GetProperty("score").GetInt32());
        Assert.Equal(passed, json.GetProperty("pass").GetBoolean());
        Assert.StartsWith("[offline]", json.GetProperty("rationale").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_with_a_fractional_schema_keeps_the_0_to_1_scale()
    {
        const string schema = """{"type":"object","properties":{"score":{"type":"number","minimum":0,"maximum":1},"passed":{"type":"boolean"},"reason":{"type":"string"}},"required":["score","passed","reason"]}""";
        List<ChatMessage> messages = [new(ChatRole.User, "[agentplatform:judge]\nExpected: red green blue yellow\nAnswer: red and green")];

        var json = await Structured(messages, schema);

        Assert.Equal(0.5, json.GetProperty("score").GetDouble());
        Assert.True(json.GetProperty("passed").GetBoolean());
    }

    [Theory]
    [InlineData("plan", "subtasks")]
    [InlineData("route", "agentId")]
    [InlineData("answer", "answer")]
    [InlineData("aggregate", "summary")]
    [InlineData("judge", "score")]
    public async Task Without_a_schema_a_marker_returns_its_natural_json(string marker, string property)
    {
        var response = await client.GetResponseAsync($"[agentplatform:{marker}]\n{Candidates}\nBook a flight to Oslo.", cancellationToken: TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(response.Text);
        Assert.True(json.RootElement.TryGetProperty(property, out _), response.Text);
    }

    private async Task<JsonElement> Structured(List<ChatMessage> messages, string schema)
    {
        var response = await client.GetResponseAsync(messages, OfflineSchemaTests.Options(schema, "structured"), cancellationToken: TestContext.Current.CancellationToken);
        var again = await client.GetResponseAsync(messages, OfflineSchemaTests.Options(schema, "structured"), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(response.Text, again.Text);
        return SchemaAssert.Valid(schema, response.Text);
    }
}
