using System.Text.Json.Serialization;
using AgentPlatform.Console.Tasks;

namespace AgentPlatform.Console.Dashboard;

// GET /api/tasks/stats (snake_case, see services/AgentPlatform.ControlPlane/Tasks/TaskStatisticsContracts.cs).

public sealed record TaskStatistics(
    [property: JsonPropertyName("from")] DateTime From,
    [property: JsonPropertyName("to")] DateTime To,
    [property: JsonPropertyName("bucket")] string Bucket,
    [property: JsonPropertyName("totals")] TaskStatisticsFigures Totals,
    [property: JsonPropertyName("buckets")] IReadOnlyList<TaskStatisticsBucket> Buckets,
    [property: JsonPropertyName("top_failing_sub_agents")] IReadOnlyList<SubAgentFailures> TopFailingSubAgents);

/// <summary>A window's totals; <see cref="SuccessRate"/> (0–1) and the percentiles are null when no task ended.</summary>
public sealed record TaskStatisticsFigures(
    [property: JsonPropertyName("submitted")] long Submitted,
    [property: JsonPropertyName("queued")] long Queued,
    [property: JsonPropertyName("running")] long Running,
    [property: JsonPropertyName("completed")] long Completed,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("cancelled")] long Cancelled,
    [property: JsonPropertyName("success_rate")] double? SuccessRate,
    [property: JsonPropertyName("p50_duration_ms")] long? P50DurationMs,
    [property: JsonPropertyName("p95_duration_ms")] long? P95DurationMs,
    [property: JsonPropertyName("usage")] TaskUsage Usage);

/// <summary>The figures of the tasks created in the hour or day that starts at <see cref="Start"/> (UTC).</summary>
public sealed record TaskStatisticsBucket(
    [property: JsonPropertyName("start")] DateTime Start,
    [property: JsonPropertyName("submitted")] long Submitted,
    [property: JsonPropertyName("queued")] long Queued,
    [property: JsonPropertyName("running")] long Running,
    [property: JsonPropertyName("completed")] long Completed,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("cancelled")] long Cancelled,
    [property: JsonPropertyName("success_rate")] double? SuccessRate,
    [property: JsonPropertyName("p50_duration_ms")] long? P50DurationMs,
    [property: JsonPropertyName("p95_duration_ms")] long? P95DurationMs,
    [property: JsonPropertyName("usage")] TaskUsage Usage);

public sealed record SubAgentFailures(
    [property: JsonPropertyName("sub_agent_id")] string SubAgentId,
    [property: JsonPropertyName("runs")] long Runs,
    [property: JsonPropertyName("failures")] long Failures,
    [property: JsonPropertyName("failure_rate")] double FailureRate);

// GET /api/model-usage (camelCase, see services/AgentPlatform.ControlPlane/Models/ModelContracts.cs).

public sealed record ModelUsageReport(DateOnly From, DateOnly To, string GroupBy, IReadOnlyList<ModelUsageAggregate> Items);

/// <summary>One model's calls and spend; <see cref="Key"/> is the model alias callers asked for.</summary>
public sealed record ModelUsageAggregate(string? Key, long Calls, long InputTokens, long OutputTokens, long CachedInputTokens, long CostMicros, long Errors);
