namespace AgentPlatform.Domain.Telemetry;

/// <summary>
/// The correlation ids every span, log scope, event and model-gateway request carries. Names follow the
/// public contract (snake_case), so a trace query reads the same in every backend.
/// </summary>
public static class PlatformTags
{
    public const string TraceId = "trace_id";
    public const string TenantId = "tenant_id";
    public const string TaskId = "task_id";
    public const string MainAgentId = "main_agent_id";
    public const string SubAgentId = "sub_agent_id";
}
