using System.Diagnostics;
using AgentPlatform.Domain.Identity;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ServiceDefaults.Authentication;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>Who calls, from the validated access token, and the platform's correlation headers.</summary>
public static class ModelCallers
{
    public const string TaskIdHeader = "x-task-id";
    public const string MainAgentIdHeader = "x-main-agent-id";
    public const string SubAgentIdHeader = "x-sub-agent-id";

    private const int MaxIdLength = 200;

    public static ModelCaller From(HttpContext context)
    {
        var user = context.User;
        var apiKeyId = user.FindFirst(PlatformClaims.ApiKeyId)?.Value;
        return new ModelCaller(
            user.GetTenantId()!,
            user.GetSubject()!,
            user.GetChargedUserId(),
            apiKeyId,
            Activity.Current?.TraceId.ToHexString(),
            Header(context, TaskIdHeader),
            Header(context, MainAgentIdHeader),
            Header(context, SubAgentIdHeader));
    }

    private static string? Header(HttpContext context, string name)
    {
        var value = context.Request.Headers[name].ToString();
        return string.IsNullOrWhiteSpace(value) ? null : value.Length > MaxIdLength ? value[..MaxIdLength] : value;
    }
}
