using System.Text.Json;

namespace AgentPlatform.Orchestration;

/// <summary>How the flow's records are serialized wherever they travel: the embedded journal and activity dispatch.</summary>
public static class TaskFlowJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
