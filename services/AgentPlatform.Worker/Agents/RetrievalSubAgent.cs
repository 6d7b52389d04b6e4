using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Knowledge;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// The built-in <c>retrieval</c> sub-agent: searches the tenant's knowledge documents for the subtask, gives the
/// model the best passages as numbered sources, and answers with citations of the sources it used (their document,
/// title and an excerpt). With no matching documents it says so rather than inventing sources.
/// </summary>
public sealed class RetrievalSubAgent(KnowledgeSearch search, ITokenEstimator tokens, IOptionsMonitor<AgentModelOptions> options) : ISubAgent
{
    public const int Passages = 5;

    private const int ExcerptLength = 300;

    private static readonly JsonElement OutputSchema = JsonDocument.Parse("""
        {
          "type": "object",
          "properties": {
            "answer": { "type": "string", "minLength": 1 },
            "citations": { "type": "array", "items": { "type": "integer", "minimum": 1 } },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
          },
          "required": ["answer", "citations", "confidence"],
          "additionalProperties": false
        }
        """).RootElement;

    public string Id => BuiltInSubAgents.Retrieval;

    public string Version => "1.0.0";

    public string Description =>
        "search, find and look up facts in the tenant's knowledge documents (policies, manuals, reports) and answer with cited sources";

    public SubAgentSpec Spec { get; } = new(BuiltInSubAgents.Retrieval, "1.0.0", OutputSchema, maxToolCalls: 0, options.CurrentValue.MaxRepairs);

    public async Task<SubAgentPrepared> PrepareAsync(SubAgentRequest request, CancellationToken cancellationToken)
    {
        var hits = await search.SearchAsync(request.Task.TenantId, request.Subtask.Description, Passages, cancellationToken);
        var budget = options.CurrentValue.ContextTokenBudget;
        var user = new StringBuilder().Append("Question: ").AppendLine(request.Subtask.Description);
        if (hits.Count == 0)
        {
            user.AppendLine("Context:").AppendLine("No knowledge document of this tenant matches the question. Say so; cite nothing.");
        }
        else
        {
            user.AppendLine("Context:");
            for (var i = 0; i < hits.Count; i++)
            {
                user.Append('[').Append(i + 1).Append("] ").Append(hits[i].Title).Append(": ")
                    .AppendLine(tokens.Fit(hits[i].Text, budget / (2 * hits.Count)));
            }
        }

        var citations = hits.Select(hit => new Citation(
            hit.Source ?? $"knowledge-document:{hit.DocumentId}",
            hit.Title,
            hit.Text.Length <= ExcerptLength ? hit.Text : hit.Text[..ExcerptLength] + "…")).ToList();
        return new SubAgentPrepared(
            [
                new ChatMessage(ChatRole.System, "[agentplatform:answer] You are the retrieval sub-agent. Answer the question only from the numbered sources in the context; list the numbers of the sources you used in 'citations'; if they do not answer it, say so."),
                new ChatMessage(ChatRole.User, user.ToString()),
            ],
            [],
            citations);
    }

    public SubAgentAnswer Interpret(JsonElement output, SubAgentPrepared prepared)
    {
        var used = output.GetProperty("citations").EnumerateArray()
            .Select(n => n.GetInt32())
            .Where(n => n >= 1 && n <= prepared.Citations.Count)
            .Distinct()
            .Select(n => prepared.Citations[n - 1])
            .ToList();
        var answer = output.GetProperty("answer").GetString()!;
        if (used.Count > 0)
        {
            answer += "\n\nSources: " + string.Join("; ", used.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"[{i + 1}] {c.Title}")));
        }

        return new SubAgentAnswer(answer, used);
    }
}
