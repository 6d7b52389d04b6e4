using System.Diagnostics;

namespace AgentPlatform.Worker.Knowledge;

internal static class KnowledgeTelemetry
{
    public static ActivitySource Source { get; } = new("AgentPlatform.Worker.Knowledge");
}
