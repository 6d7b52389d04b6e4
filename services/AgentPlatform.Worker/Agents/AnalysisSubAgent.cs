using System.Text;
using System.Text.Json;
using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// The built-in <c>analysis</c> sub-agent: structured reasoning over the task's context and the outputs of the
/// subtasks it depends on. No tools; its answer must carry a non-empty <c>answer</c> and a <c>confidence</c> in
/// [0, 1].
/// </summary>
public sealed class AnalysisSubAgent(ITokenEstimator tokens, IOptionsMonitor<AgentModelOptions> options) : ISubAgent
{
    public string Id => BuiltInSubAgents.Analysis;

    public string Version => "1.0.0";

    public string Description =>
        "analyse, reason, compare, summarise, explain, plan, write, draft and review using the task's context and other results";

    public SubAgentSpec Spec { get; } = new(BuiltInSubAgents.Analysis, "1.0.0", SubAgentSchemas.Answer, maxToolCalls: 0, options.CurrentValue.MaxRepairs);

    public Task<SubAgentPrepared> PrepareAsync(SubAgentRequest request, CancellationToken cancellationToken)
    {
        var budget = options.CurrentValue.ContextTokenBudget;
        var user = new StringBuilder()
            .Append("Question: ").AppendLine(request.Subtask.Description)
            .AppendLine("Context:")
            .AppendLine(tokens.Fit(request.Context, budget / 2));
        if (request.Dependencies.Count > 0)
        {
            user.AppendLine("Sources:");
            foreach (var dependency in request.Dependencies)
            {
                user.Append("- ").Append(dependency.SubAgentId).Append('-').Append(dependency.SubtaskId).Append(": ")
                    .AppendLine(tokens.Fit(dependency.Text, budget / (2 * request.Dependencies.Count)));
            }
        }

        return Task.FromResult(new SubAgentPrepared(
            [
                new ChatMessage(ChatRole.System, "[agentplatform:answer] You are the analysis sub-agent. Answer the question from the context and the sources, step by step but concisely; state your confidence from 0 to 1."),
                new ChatMessage(ChatRole.User, user.ToString()),
            ],
            [],
            []));
    }

    public SubAgentAnswer Interpret(JsonElement output, SubAgentPrepared prepared) =>
        new(output.GetProperty("answer").GetString()!, prepared.Citations);
}
