using System.Text.Json;
using Json.Schema;
using Microsoft.Agents.AI.Workflows;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Agents.MicroGraph;

/// <summary>Starts the run's state from the prepared conversation.</summary>
internal sealed class PrepareExecutor() : Executor<SubAgentGraphInput, SubAgentTurn>("prepare")
{
    public override ValueTask<SubAgentTurn> HandleAsync(SubAgentGraphInput message, IWorkflowContext context, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new SubAgentTurn(message));
}

/// <summary>One model call: offers the tools while the run may still call them, asks for the output schema.</summary>
internal sealed class ModelExecutor(IChatClient chat) : Executor<SubAgentTurn, SubAgentTurn>("model")
{
    public override async ValueTask<SubAgentTurn> HandleAsync(SubAgentTurn turn, IWorkflowContext context, CancellationToken cancellationToken = default)
    {
        var mayCallTools = turn.Tools.Count > 0 && turn.ToolCalls < turn.Spec.MaxToolCalls;
        var options = new ChatOptions
        {
            MaxOutputTokens = turn.MaxOutputTokens,
            Temperature = 0,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(turn.Spec.OutputSchema, $"{turn.Spec.Id.Replace('-', '_')}_output"),
            Tools = mayCallTools ? [.. turn.Tools] : null,
            ToolMode = mayCallTools ? ChatToolMode.Auto : null,
        };
        var response = await chat.GetResponseAsync(turn.Messages, options, cancellationToken);
        turn.LastResponse = response;
        turn.Messages.AddRange(response.Messages);
        turn.InputTokens += response.Usage?.InputTokenCount ?? 0;
        turn.OutputTokens += response.Usage?.OutputTokenCount ?? 0;
        return turn;
    }
}

/// <summary>Runs the tool calls the model asked for (only tools of this run) and hands the results back to it.</summary>
internal sealed class ToolExecutor() : Executor<SubAgentTurn, SubAgentTurn>("tools")
{
    public override async ValueTask<SubAgentTurn> HandleAsync(SubAgentTurn turn, IWorkflowContext context, CancellationToken cancellationToken = default)
    {
        var calls = turn.LastResponse!.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        var results = new List<AIContent>(calls.Count);
        foreach (var call in calls)
        {
            turn.ToolCalls++;
            var tool = turn.Tools.FirstOrDefault(t => t.Name == call.Name);
            object? result;
            if (tool is null)
            {
                result = $"Error: '{call.Name}' is not a tool of this sub-agent.";
            }
            else if (turn.ToolCalls > turn.Spec.MaxToolCalls)
            {
                result = $"Error: this run may call at most {turn.Spec.MaxToolCalls} tools; answer with what you have.";
            }
            else
            {
                try
                {
                    result = await tool.InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    result = $"Error: {exception.Message}";
                }
            }

            results.Add(new FunctionResultContent(call.CallId, result));
        }

        turn.Messages.Add(new ChatMessage(ChatRole.Tool, results));
        turn.LastResponse = null;
        return turn;
    }
}

/// <summary>Checks the answer against the sub-agent's output schema (JSON Schema, formats included).</summary>
internal sealed class ValidateExecutor() : Executor<SubAgentTurn, SubAgentTurn>("validate")
{
    public override ValueTask<SubAgentTurn> HandleAsync(SubAgentTurn turn, IWorkflowContext context, CancellationToken cancellationToken = default)
    {
        var text = turn.LastResponse?.Text ?? "";
        try
        {
            using var document = JsonDocument.Parse(text);
            var results = turn.Spec.CompiledSchema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            if (results.IsValid)
            {
                turn.Problem = turn.Validate?.Invoke(document.RootElement);
                turn.Output = turn.Problem is null ? document.RootElement.Clone() : null;
            }
            else
            {
                var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))
                    .Take(10);
                turn.Problem = "It does not match the output schema: " + string.Join("; ", errors);
            }
        }
        catch (JsonException exception)
        {
            turn.Problem = $"It is not JSON: {exception.Message}";
        }

        return ValueTask.FromResult(turn);
    }
}

/// <summary>Sends an invalid answer back with what is wrong with it.</summary>
internal sealed class RepairExecutor() : Executor<SubAgentTurn, SubAgentTurn>("repair")
{
    public override ValueTask<SubAgentTurn> HandleAsync(SubAgentTurn turn, IWorkflowContext context, CancellationToken cancellationToken = default)
    {
        turn.Repairs++;
        turn.Messages.Add(new ChatMessage(ChatRole.User, $"Your answer is invalid. {turn.Problem} Answer again with JSON that matches the schema."));
        return ValueTask.FromResult(turn);
    }
}

/// <summary>Ends the run with its state as the graph's output.</summary>
[YieldsOutput(typeof(SubAgentTurn))]
internal sealed class FinishExecutor() : Executor<SubAgentTurn>("finish")
{
    public override ValueTask HandleAsync(SubAgentTurn turn, IWorkflowContext context, CancellationToken cancellationToken = default) =>
        context.YieldOutputAsync(turn, cancellationToken);
}
