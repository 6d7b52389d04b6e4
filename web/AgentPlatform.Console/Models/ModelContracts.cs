namespace AgentPlatform.Console.Models;

// The control plane's model routes, budgets and usage APIs (camelCase, see
// services/AgentPlatform.ControlPlane/Models/ModelContracts.cs), as far as the console reads and writes them. The
// values the API accepts (strategies, providers, budget scopes and periods, limits) are shared from
// AgentPlatform.Domain.Models.

public static class UsageGroupings
{
    public const string Day = "day";
    public const string Model = "model";
    public const string ApiKey = "apiKey";
    public const string User = "user";

    /// <summary>The longest window one report covers.</summary>
    public const int MaxDays = 366;
}

public sealed record ModelRoute(
    Guid Id,
    string Alias,
    string Strategy,
    IReadOnlyList<string> Fallbacks,
    string? Description,
    IReadOnlyList<ModelDeployment> Deployments,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    Guid Version);

/// <summary>Prices are micro-units of the platform currency per million tokens.</summary>
public sealed record ModelDeployment(
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
    bool Enabled);

/// <summary>A route and all its deployments, written whole (PUT needs the ETag read in <c>If-Match</c>).</summary>
public sealed record ModelRouteRequest(
    string Alias,
    string Strategy,
    IReadOnlyList<string> Fallbacks,
    string? Description,
    IReadOnlyList<ModelDeploymentRequest> Deployments);

public sealed record ModelDeploymentRequest(
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
    bool Enabled);

public sealed record ModelBudget(Guid Id, string Scope, string SubjectId, long LimitMicros, string Period, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record ModelBudgetStatus(long LimitMicros, long SpentMicros, long RemainingMicros, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt);

public sealed record CreateModelBudgetRequest(string Scope, string? SubjectId, long LimitMicros, string Period);

public sealed record UpdateModelBudgetRequest(long LimitMicros);

public sealed record ModelUsageReport(DateOnly From, DateOnly To, string GroupBy, IReadOnlyList<ModelUsageAggregate> Items);

/// <summary>Totals of one group; <see cref="Key"/> is null for calls without that attribute (e.g. no API key).</summary>
public sealed record ModelUsageAggregate(string? Key, long Calls, long InputTokens, long OutputTokens, long CachedInputTokens, long CostMicros, long Errors)
{
    public long TotalTokens => InputTokens + OutputTokens;
}
