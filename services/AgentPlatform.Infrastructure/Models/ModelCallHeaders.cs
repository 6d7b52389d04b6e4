namespace AgentPlatform.Infrastructure.Models;

/// <summary>
/// Headers between platform services and the model gateway: the correlation ids a platform caller sets on a
/// model call (stripped at the edge, so only internal callers can set them), and what the gateway reports back.
/// </summary>
public static class ModelCallHeaders
{
    public const string TaskId = "x-task-id";
    public const string MainAgentId = "x-main-agent-id";
    public const string SubAgentId = "x-sub-agent-id";

    /// <summary>The cost of a plain (not streamed) chat completion in micro-units, as the usage record has it.</summary>
    public const string CostMicros = "x-agentplatform-cost-micros";
}
