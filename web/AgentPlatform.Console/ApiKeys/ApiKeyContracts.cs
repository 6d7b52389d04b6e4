namespace AgentPlatform.Console.ApiKeys;

// The control plane's API keys API (camelCase, see services/AgentPlatform.ControlPlane/Identity/CredentialContracts.cs).

public sealed record ApiKey(
    Guid Id,
    string Name,
    string Prefix,
    IReadOnlyList<string> Roles,
    string CreatedBy,
    DateTime CreatedAt,
    DateTime ExpiresAt,
    DateTime? RevokedAt,
    DateTime? LastUsedAt)
{
    public string StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? ApiKeyStatus.Revoked
        : ExpiresAt <= now.UtcDateTime ? ApiKeyStatus.Expired
        : ApiKeyStatus.Active;
}

public sealed record CreateApiKeyRequest(string Name, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt);

/// <summary>A new key: the only answer that ever holds <see cref="Key"/>. The console shows it once and keeps it nowhere.</summary>
public sealed record CreatedApiKey(Guid Id, string Name, string Prefix, IReadOnlyList<string> Roles, DateTime CreatedAt, DateTime ExpiresAt, string Key)
{
    // A record prints its properties; this one must never print the secret (logs, exception messages, debugger).
    public override string ToString() => $"API key {Name} ({Prefix}…)";
}

public static class ApiKeyStatus
{
    public const string Active = "active";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
}
