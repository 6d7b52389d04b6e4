using Microsoft.Extensions.AI;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// A tool a sub-agent's model may call, as a Microsoft.Extensions.AI function (name, description, JSON schema).
/// Sub-agents never get it directly: <see cref="ToolGateway"/> hands out the allowed ones, wrapped.
/// </summary>
public interface ITool
{
    /// <summary>The function; its <see cref="AITool.Name"/> is the name allowlists use.</summary>
    AIFunction AIFunction { get; }
}
