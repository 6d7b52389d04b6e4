namespace AgentPlatform.Domain.Identity;

/// <summary>Claims of the platform's access tokens (JWT, RFC 9068 profile).</summary>
public static class PlatformClaims
{
    public const string Subject = "sub";
    public const string TenantId = "tenant_id";
    public const string Roles = "roles";
    public const string ClientId = "client_id";
    public const string TokenId = "jti";
    public const string Name = "name";

    /// <summary>Set when the token stands for an API key (exchanged at the gateway).</summary>
    public const string ApiKeyId = "api_key_id";

    /// <summary>
    /// The user whose limits (model budgets) bind the token: on an API key's token the subject that created the
    /// key, on a platform service's token the user it acts for (<c>on_behalf_of</c>).
    /// </summary>
    public const string KeyOwner = "key_owner";

    /// <summary>The access token's JOSE <c>typ</c> header (RFC 9068).</summary>
    public const string AccessTokenType = "at+jwt";

    /// <summary>The audience of every platform access token.</summary>
    public const string Audience = "agentplatform";
}
