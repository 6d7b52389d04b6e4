using System.Text;
using System.Text.Json;
using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// The built-in <c>tool-execution</c> sub-agent: does its subtask with the tools the Tool Gateway allows it
/// (calculator, HTTP fetch within the egress allowlist, code in the gVisor sandbox), every call audited, then
/// answers from the results.
/// </summary>
public sealed class ToolExecutionSubAgent(ToolGateway tools, ITokenEstimator tokens, IOptionsMonitor<AgentModelOptions> options) : ISubAgent
{
    public const int MaxToolCalls = 6;

    public string Id => BuiltInSubAgents.ToolExecution;

    public string Version => "1.0.0";

    public string Description =>
        "calculate and compute numbers with a calculator, fetch web pages over http, run python or bash code in a sandbox";

    public SubAgentSpec Spec { get; } = new(BuiltInSubAgents.ToolExecution, "1.0.0", SubAgentSchemas.Answer, MaxToolCalls, options.CurrentValue.MaxRepairs);

    public Task<SubAgentPrepared> PrepareAsync(SubAgentRequest request, CancellationToken cancellationToken)
    {
        var allowed = tools.GetTools(ToolCallContext.FromCurrentScope());
        var user = new StringBuilder()
            .Append("Question: ").AppendLine(request.Subtask.Description)
            .AppendLine("Context:")
            .AppendLine(tokens.Fit(request.Context, options.CurrentValue.ContextTokenBudget / 2));
        foreach (var dependency in request.Dependencies)
        {
            user.Append("- ").Append(dependency.SubAgentId).Append('-').Append(dependency.SubtaskId).Append(": ")
                .AppendLine(tokens.Fit(dependency.Text, options.CurrentValue.ContextTokenBudget / (4 * request.Dependencies.Count)));
        }

        return Task.FromResult(new SubAgentPrepared(
            [
                new ChatMessage(ChatRole.System,
                    $"[agentplatform:answer] You are the tool execution sub-agent. Use your tools ({string.Join(", ", allowed.Select(t => t.Name))}) to do the subtask exactly; then answer from their results and state your confidence from 0 to 1."),
                new ChatMessage(ChatRole.User, user.ToString()),
            ],
            allowed,
            []));
    }

    public SubAgentAnswer Interpret(JsonElement output, SubAgentPrepared prepared) => new(output.GetProperty("answer").GetString()!, []);
}
