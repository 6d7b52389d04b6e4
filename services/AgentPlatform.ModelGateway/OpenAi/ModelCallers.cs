using System.Diagnostics;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ServiceDefaults.Authentication;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>Who calls, from the validated access token, and the platform's correlation headers.</summary>
public static class ModelCallers
{
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
            Header(context, ModelCallHeaders.TaskId),
            Header(context, ModelCallHeaders.MainAgentId),
            Header(context, ModelCallHeaders.SubAgentId));
    }

    private static string? Header(HttpContext context, string name)
    {
        var value = context.Request.Headers[name].ToString();
        return string.IsNullOrWhiteSpace(value) ? null : value.Length > MaxIdLength ? value[..MaxIdLength] : value;
    }
}
