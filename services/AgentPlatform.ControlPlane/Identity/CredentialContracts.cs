using System.ComponentModel.DataAnnotations;
using AgentPlatform.Infrastructure.Identity;

namespace AgentPlatform.ControlPlane.Identity;

public sealed record CreateApiKeyRequest
{
    [Required, StringLength(200, MinimumLength = 1)]
    public string Name { get; init; } = "";

    /// <summary>What the key may do: roles the caller could give (no escalation).</summary>
    [Required, MinLength(1), MaxLength(10)]
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>When the key stops working (UTC); required, at most <see cref="TokenServiceOptions.MaxApiKeyLifetime"/> ahead.</summary>
    [Required]
    public DateTimeOffset? ExpiresAt { get; init; }
}

public sealed record ApiKeyResponse(
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
    public static ApiKeyResponse From(ApiKey key) =>
        new(key.Id, key.Name, key.Prefix, key.Roles, key.CreatedBy, key.CreatedAt, key.ExpiresAt, key.RevokedAt, key.LastUsedAt);
}

/// <summary>A new API key: the only answer that ever contains <see cref="Key"/>.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, IReadOnlyList<string> Roles, DateTime CreatedAt, DateTime ExpiresAt, string Key);

public sealed record CreateClientRequest
{
    [Required, StringLength(200, MinimumLength = 1)]
    public string Name { get; init; } = "";

    /// <summary>What the client may do: roles the caller could give (no escalation).</summary>
    [Required, MinLength(1), MaxLength(10)]
    public IReadOnlyList<string> Roles { get; init; } = [];
}

public sealed record ClientResponse(Guid Id, string ClientId, string Name, IReadOnlyList<string> Roles, string CreatedBy, DateTime CreatedAt, DateTime? RevokedAt)
{
    public static ClientResponse From(OAuthClient client) =>
        new(client.Id, client.ClientId, client.Name, client.Roles, client.CreatedBy, client.CreatedAt, client.RevokedAt);
}

/// <summary>A new OAuth client: the only answer that ever contains <see cref="ClientSecret"/>.</summary>
public sealed record CreatedClientResponse(Guid Id, string ClientId, string Name, IReadOnlyList<string> Roles, DateTime CreatedAt, string ClientSecret);
