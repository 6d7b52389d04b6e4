using System.Diagnostics;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.ModelGateway.Governance;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>The span of each model call, carrying the platform's correlation ids and GenAI semantic-convention tags.</summary>
public static class ModelGatewayTelemetry
{
    public const string SourceName = "AgentPlatform.ModelGateway";

    private static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartCall(string operation, ModelCaller caller, string model)
    {
        var activity = Source.StartActivity($"{operation} {model}", ActivityKind.Internal);
        activity?.SetTag("gen_ai.operation.name", operation)
            .SetTag("gen_ai.request.model", model)
            .SetTag(PlatformTags.TenantId, caller.TenantId)
            .SetTag(PlatformTags.TaskId, caller.TaskId)
            .SetTag(PlatformTags.MainAgentId, caller.MainAgentId)
            .SetTag(PlatformTags.SubAgentId, caller.SubAgentId);
        return activity;
    }
}
