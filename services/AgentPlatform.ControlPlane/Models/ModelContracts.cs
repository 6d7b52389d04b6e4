using System.ComponentModel.DataAnnotations;
using AgentPlatform.Infrastructure.Models;

namespace AgentPlatform.ControlPlane.Models;

public sealed record ProviderCredentialResponse(Guid Id, string Name, string Hint, string CreatedBy, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ProviderCredentialResponse From(ProviderCredential credential) =>
        new(credential.Id, credential.Name, credential.Hint, credential.CreatedBy, credential.CreatedAt, credential.UpdatedAt);
}

public sealed record CreateProviderCredentialRequest
{
    [Required, StringLength(100, MinimumLength = 1)]
    public required string Name { get; init; }

    /// <summary>The provider's API key; write-only, never returned.</summary>
    [Required, StringLength(ProviderCredentials.MaxSecretLength, MinimumLength = ProviderCredentials.MinSecretLength)]
    public required string Secret { get; init; }
}

public sealed record RotateProviderCredentialRequest
{
    [Required, StringLength(ProviderCredentials.MaxSecretLength, MinimumLength = ProviderCredentials.MinSecretLength)]
    public required string Secret { get; init; }
}

public static class ProviderCredentials
{
    public const int MinSecretLength = 8;
    public const int MaxSecretLength = 4096;
    public const int HintLength = 4;

    /// <summary>The secret's last characters, to tell credentials apart; secrets are long enough that this reveals little.</summary>
    public static string Hint(string secret) => secret[^HintLength..];
}

/// <summary>A route and all its deployments, read and written as one document.</summary>
public sealed record ModelRouteRequest
{
    [Required, StringLength(100, MinimumLength = 1)]
    public required string Alias { get; init; }

    [Required]
    public required string Strategy { get; init; }

    public IReadOnlyList<string> Fallbacks { get; init; } = [];

    [StringLength(500)]
    public string? Description { get; init; }

    [Required]
    public required IReadOnlyList<ModelDeploymentRequest> Deployments { get; init; }
}

public sealed record ModelDeploymentRequest
{
    [Required, StringLength(100, MinimumLength = 1)]
    public required string Name { get; init; }

    [Required]
    public required string Provider { get; init; }

    [StringLength(500)]
    public string? Endpoint { get; init; }

    [Required, StringLength(200, MinimumLength = 1)]
    public required string Model { get; init; }

    public Guid? CredentialId { get; init; }

    public int Priority { get; init; }

    public int Weight { get; init; } = 1;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public int MaxRetries { get; init; }

    public TimeSpan Cooldown { get; init; } = TimeSpan.FromSeconds(30);

    public int ContextWindow { get; init; } = 128_000;

    public long InputPriceMicros { get; init; }

    public long OutputPriceMicros { get; init; }

    public long CachedInputPriceMicros { get; init; }

    public bool Enabled { get; init; } = true;
}

public sealed record ModelRouteResponse(
    Guid Id,
    string Alias,
    string Strategy,
    IReadOnlyList<string> Fallbacks,
    string? Description,
    IReadOnlyList<ModelDeploymentResponse> Deployments,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    Guid Version)
{
    public static ModelRouteResponse From(ModelRoute route) => new(
        route.Id,
        route.Alias,
        route.Strategy,
        route.Fallbacks,
        route.Description,
        [.. route.Deployments.OrderBy(d => d.Priority).ThenBy(d => d.Name, StringComparer.Ordinal).Select(ModelDeploymentResponse.From)],
        route.CreatedAt,
        route.UpdatedAt,
        route.Version);
}

public sealed record ModelDeploymentResponse(
    Guid Id,
    string Name,
    string Provider,
    string? Endpoint,
    string Model,
    Guid? CredentialId,
    int Priority,
    int Weight,
    TimeSpan Timeout,
    int MaxRetries,
    TimeSpan Cooldown,
    int ContextWindow,
    long InputPriceMicros,
    long OutputPriceMicros,
    long CachedInputPriceMicros,
    bool Enabled)
{
    public static ModelDeploymentResponse From(ModelDeployment d) => new(
        d.Id, d.Name, d.Provider, d.Endpoint, d.Model, d.CredentialId, d.Priority, d.Weight, d.Timeout, d.MaxRetries, d.Cooldown,
        d.ContextWindow, d.InputPriceMicros, d.OutputPriceMicros, d.CachedInputPriceMicros, d.Enabled);
}

public sealed record ModelBudgetResponse(Guid Id, string Scope, string SubjectId, long LimitMicros, string Period, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ModelBudgetResponse From(ModelBudget budget) =>
        new(budget.Id, budget.Scope, budget.SubjectId, budget.LimitMicros, budget.Period, budget.CreatedAt, budget.UpdatedAt);
}

public sealed record CreateModelBudgetRequest
{
    /// <summary><c>tenant</c>, <c>user</c> or <c>api-key</c>.</summary>
    [Required]
    public required string Scope { get; init; }

    /// <summary>The user or API key id; ignored for scope <c>tenant</c> (the caller's tenant).</summary>
    [StringLength(100)]
    public string? SubjectId { get; init; }

    [Range(0, long.MaxValue)]
    public long LimitMicros { get; init; }

    /// <summary><c>daily</c> or <c>monthly</c>.</summary>
    [Required]
    public required string Period { get; init; }
}

public sealed record UpdateModelBudgetRequest
{
    [Range(0, long.MaxValue)]
    public long LimitMicros { get; init; }
}

public sealed record ModelBudgetStatusResponse(long LimitMicros, long SpentMicros, long RemainingMicros, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt);

public sealed record ModelBudgetQuery
{
    /// <summary>Only budgets of this scope.</summary>
    [StringLength(20)]
    public string? Scope { get; init; }
}

/// <summary>Which calls a usage report covers: whole UTC days, both ends included.</summary>
public sealed record ModelUsageQuery
{
    public const int MaxDays = 366;

    public DateOnly? From { get; init; }

    public DateOnly? To { get; init; }

    [StringLength(100)]
    public string? ApiKeyId { get; init; }

    [StringLength(100)]
    public string? UserId { get; init; }

    /// <summary>The model alias callers asked for.</summary>
    [StringLength(200)]
    public string? Model { get; init; }

    [StringLength(100)]
    public string? TaskId { get; init; }
}

public sealed record ModelUsageReport(DateOnly From, DateOnly To, string GroupBy, IReadOnlyList<ModelUsageAggregate> Items);

/// <summary>Totals of one group; <see cref="Key"/> is null for calls without that attribute (e.g. no API key).</summary>
public sealed record ModelUsageAggregate(string? Key, long Calls, long InputTokens, long OutputTokens, long CachedInputTokens, long CostMicros, long Errors);

public sealed record ModelUsageCallResponse(
    Guid Id,
    DateTime OccurredAt,
    DateOnly Day,
    string Subject,
    string? UserId,
    string? ApiKeyId,
    string Operation,
    string ModelRequested,
    string? ModelServed,
    string? Deployment,
    bool Streamed,
    int AttemptCount,
    string Attempts,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens,
    long CostMicros,
    double LatencyMilliseconds,
    string Outcome,
    int StatusCode,
    bool DryRun,
    bool Offline,
    string? TraceId,
    string? TaskId,
    string? MainAgentId,
    string? SubAgentId)
{
    public static ModelUsageCallResponse From(ModelUsageRecord u) => new(
        u.Id, u.OccurredAt, u.Day, u.Subject, u.UserId, u.ApiKeyId, u.Operation, u.ModelRequested, u.ModelServed, u.Deployment, u.Streamed,
        u.AttemptCount, u.Attempts, u.InputTokens, u.OutputTokens, u.CachedInputTokens, u.CostMicros, u.LatencyMilliseconds, u.Outcome,
        u.StatusCode, u.DryRun, u.Offline, u.TraceId, u.TaskId, u.MainAgentId, u.SubAgentId);
}
