using System.Text.Json;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Agents.MicroGraph;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Agents;

/// <summary>What a sub-agent gets for one run: its subtask, the task's context and its dependencies' outputs.</summary>
public sealed record SubAgentRequest(TaskFlowInput Task, PlannedSubtask Subtask, string Context, IReadOnlyList<SubAgentOutputText> Dependencies);

public sealed record SubAgentOutputText(string SubAgentId, int SubtaskId, string Text);

/// <summary>A run prepared for the micro graph: the conversation, the tools it may call, what it found on the way.</summary>
public sealed record SubAgentPrepared(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<AIFunction> Tools, IReadOnlyList<Citation> Citations);

/// <summary>A sub-agent's answer as the task sees it.</summary>
public sealed record SubAgentAnswer(string Text, IReadOnlyList<Citation> Citations);

/// <summary>
/// A sub-agent the router can pick. It prepares its run (instructions, context, tools — the "prepare context"
/// node) and reads its validated output; the micro graph (<see cref="SubAgentGraph"/>) does the rest: model, tool
/// loop, validation against <see cref="Spec"/>'s schema, repairs.
/// </summary>
public interface ISubAgent
{
    string Id { get; }

    string Version { get; }

    /// <summary>What it is good at; the planner and the router read it.</summary>
    string Description { get; }

    SubAgentSpec Spec { get; }

    Task<SubAgentPrepared> PrepareAsync(SubAgentRequest request, CancellationToken cancellationToken);

    SubAgentAnswer Interpret(JsonElement output, SubAgentPrepared prepared);
}

/// <summary>The sub-agents this Worker can run, by id.</summary>
public sealed class SubAgentCatalog(IEnumerable<ISubAgent> subAgents)
{
    private readonly Dictionary<string, ISubAgent> byId = subAgents.ToDictionary(s => s.Id, StringComparer.Ordinal);

    public IReadOnlyCollection<ISubAgent> All => byId.Values;

    public ISubAgent? Find(string id) => byId.GetValueOrDefault(id);

    /// <summary>The candidates for a task: its hints when any of them exists here, else every sub-agent.</summary>
    public IReadOnlyList<ISubAgent> CandidatesFor(IReadOnlyList<string> hints)
    {
        var hinted = hints.Select(Find).OfType<ISubAgent>().ToList();
        return hinted.Count > 0 ? hinted : [.. byId.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
    }

    /// <summary>The candidate lines (<c>- id: description</c>) the plan and route prompts list.</summary>
    public static string Lines(IEnumerable<ISubAgent> candidates) =>
        string.Join('\n', candidates.Select(c => $"- {c.Id}: {c.Description}"));
}

/// <summary>Output schemas the built-in sub-agents share.</summary>
public static class SubAgentSchemas
{
    /// <summary>A plain answer: non-empty text and a confidence in [0, 1].</summary>
    public static JsonElement Answer { get; } = JsonDocument.Parse("""
        {
          "type": "object",
          "properties": {
            "answer": { "type": "string", "minLength": 1 },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
          },
          "required": ["answer", "confidence"],
          "additionalProperties": false
        }
        """).RootElement;
}
