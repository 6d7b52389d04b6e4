using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Agents.MicroGraph;

/// <summary>The state that travels through the micro graph: the conversation so far and what the run has spent.</summary>
public sealed class SubAgentTurn(SubAgentGraphInput input)
{
    public SubAgentSpec Spec { get; } = input.Spec;

    public List<ChatMessage> Messages { get; } = [.. input.Messages];

    public IReadOnlyList<AIFunction> Tools { get; } = input.Tools;

    public int MaxOutputTokens { get; } = input.MaxOutputTokens;

    public Func<JsonElement, string?>? Validate { get; } = input.Validate;

    public ChatResponse? LastResponse { get; set; }

    public int ToolCalls { get; set; }

    public int Repairs { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    /// <summary>Why the last answer is invalid; null once it validated.</summary>
    public string? Problem { get; set; }

    public JsonElement? Output { get; set; }

    public bool HasPendingToolCalls => LastResponse?.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any() == true;
}
