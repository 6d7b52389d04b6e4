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
        var clientId = user.FindFirst(PlatformClaims.ClientId)?.Value;
        var subject = user.GetSubject()!;

        // A user's token is the user; an API key answers to the user who created it and a platform service to the
        // user it acts for (both in key_owner); any other client is nobody's.
        var keyOwner = user.FindFirst(PlatformClaims.KeyOwner)?.Value;
        var userId = keyOwner ?? (apiKeyId is null && clientId is null ? subject : null);
        return new ModelCaller(
            user.GetTenantId()!,
            subject,
            userId,
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
