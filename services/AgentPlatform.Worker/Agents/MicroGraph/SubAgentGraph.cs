using System.Text.Json;
using Json.Schema;
using Microsoft.Agents.AI.Workflows;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Agents.MicroGraph;

/// <summary>
/// What the micro graph needs to know about a sub-agent: its output schema (the answer must validate against it)
/// and its limits. The schema is compiled once per spec.
/// </summary>
public sealed class SubAgentSpec
{
    public SubAgentSpec(string id, string version, JsonElement outputSchema, int maxToolCalls, int maxRepairs)
    {
        Id = id;
        Version = version;
        OutputSchema = outputSchema.Clone();
        MaxToolCalls = maxToolCalls;
        MaxRepairs = maxRepairs;
        // A base URI per spec keeps schemas apart in JsonSchema.Net's registry.
        CompiledSchema = JsonSchema.FromText(OutputSchema.GetRawText(), new BuildOptions(), new Uri($"https://agentplatform.local/sub-agents/{id}/{version}/{Guid.NewGuid():N}"));
    }

    public string Id { get; }

    public string Version { get; }

    public JsonElement OutputSchema { get; }

    public int MaxToolCalls { get; }

    public int MaxRepairs { get; }

    internal JsonSchema CompiledSchema { get; }

    /// <summary>A spec whose output schema is derived from <typeparamref name="T"/>'s JSON shape.</summary>
    public static SubAgentSpec For<T>(string id, string version, int maxToolCalls, int maxRepairs) =>
        new(id, version, AIJsonUtilities.CreateJsonSchema(typeof(T), serializerOptions: JsonSerializerOptions.Web), maxToolCalls, maxRepairs);
}

/// <summary>
/// One run's input: the prepared conversation, the tools the run may call, the model options, and checks beyond
/// the schema (<paramref name="Validate"/>: null when the output is fine, else what is wrong with it).
/// </summary>
public sealed record SubAgentGraphInput(
    SubAgentSpec Spec,
    IReadOnlyList<ChatMessage> Messages,
    IReadOnlyList<AIFunction> Tools,
    int MaxOutputTokens,
    Func<JsonElement, string?>? Validate = null);

/// <summary>What a run produced: the validated output, and what it took.</summary>
public sealed record SubAgentGraphResult(JsonElement Output, long InputTokens, long OutputTokens, int ToolCalls, int Repairs);

/// <summary>The answer still did not fit the sub-agent's schema after every repair the spec allows.</summary>
public sealed class SubAgentOutputInvalidException(string subAgent, int repairs, string problem)
    : Exception($"The sub-agent '{subAgent}' answered outside its output schema after {repairs} repair(s): {problem}");

/// <summary>
/// A sub-agent's reasoning loop as a Microsoft Agent Framework workflow (the micro graph inside one macro step):
/// prepare → model → (tools → model)* → validate → (repair → model)* → finish. The model may call the run's tools
/// up to the spec's limit, after which it must answer; an answer that does not validate against the output schema
/// is sent back with the validation errors at most <see cref="SubAgentSpec.MaxRepairs"/> times.
/// </summary>
public sealed class SubAgentGraph(IChatClient chat)
{
    public async Task<SubAgentGraphResult> RunAsync(SubAgentGraphInput input, CancellationToken cancellationToken)
    {
        var prepare = new PrepareExecutor();
        var model = new ModelExecutor(chat);
        var tools = new ToolExecutor();
        var validate = new ValidateExecutor();
        var repair = new RepairExecutor();
        var finish = new FinishExecutor();
        var workflow = new WorkflowBuilder(prepare)
            .WithName($"sub-agent {input.Spec.Id}@{input.Spec.Version}")
            .AddEdge(prepare, model)
            .AddEdge<SubAgentTurn>(model, tools, turn => turn!.HasPendingToolCalls)
            .AddEdge<SubAgentTurn>(model, validate, turn => !turn!.HasPendingToolCalls)
            .AddEdge(tools, model)
            .AddEdge<SubAgentTurn>(validate, finish, turn => turn!.Problem is null || turn.Repairs >= turn.Spec.MaxRepairs)
            .AddEdge<SubAgentTurn>(validate, repair, turn => turn!.Problem is not null && turn.Repairs < turn.Spec.MaxRepairs)
            .AddEdge(repair, model)
            .WithOutputFrom(finish)
            .Build();

        await using var run = await InProcessExecution.RunAsync(workflow, input, cancellationToken: cancellationToken);
        SubAgentTurn? done = null;
        foreach (var workflowEvent in run.NewEvents)
        {
            switch (workflowEvent)
            {
                case WorkflowOutputEvent { Data: SubAgentTurn turn }:
                    done = turn;
                    break;
                case ExecutorFailedEvent { Data: Exception failure }:
                    throw failure is OperationCanceledException ? failure : new InvalidOperationException($"The sub-agent's graph failed in '{workflowEvent}': {failure.Message}", failure);
                case WorkflowErrorEvent { Data: Exception error }:
                    throw error is OperationCanceledException ? error : new InvalidOperationException($"The sub-agent's graph failed: {error.Message}", error);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (done is null)
        {
            throw new InvalidOperationException($"The sub-agent '{input.Spec.Id}' graph ended without an answer.");
        }

        return done.Problem is { } problem
            ? throw new SubAgentOutputInvalidException(input.Spec.Id, done.Repairs, problem)
            : new SubAgentGraphResult(done.Output!.Value, done.InputTokens, done.OutputTokens, done.ToolCalls, done.Repairs);
    }
}
