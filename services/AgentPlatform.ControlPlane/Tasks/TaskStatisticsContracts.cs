using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// Which window <c>GET /api/tasks/stats</c> covers; every parameter is optional. Times are ISO 8601 and UTC when they
/// carry no offset.
/// </summary>
public sealed record TaskStatisticsQuery
{
    /// <summary>Tasks created at or after; by default seven days of whole buckets before the end of <c>to</c>'s bucket.</summary>
    [FromQuery(Name = "from")]
    public DateTimeOffset? From { get; init; }

    /// <summary>Tasks created before; by default now.</summary>
    [FromQuery(Name = "to")]
    public DateTimeOffset? To { get; init; }

    /// <summary><c>hour</c> or <c>day</c> (the default).</summary>
    [FromQuery(Name = "bucket")]
    public string? Bucket { get; init; }
}

/// <summary>
/// The tenant's tasks created in [<c>from</c>, <c>to</c>): the window's totals, the same figures per UTC hour or day
/// (every bucket of the window, empty ones included), and the sub-agents whose runs failed most.
/// </summary>
public sealed record TaskStatisticsResponse(
    [property: JsonPropertyName("from")] DateTime From,
    [property: JsonPropertyName("to")] DateTime To,
    [property: JsonPropertyName("bucket")] string Bucket,
    [property: JsonPropertyName("totals")] TaskStatisticsFigures Totals,
    [property: JsonPropertyName("buckets")] IReadOnlyList<TaskStatisticsBucket> Buckets,
    [property: JsonPropertyName("top_failing_sub_agents")] IReadOnlyList<SubAgentFailureStatistics> TopFailingSubAgents);

/// <summary>
/// What happened to a set of tasks: how many were submitted and where each is now, the share of ended ones that
/// completed, how long the ended ones ran (<c>started_at</c> → <c>completed_at</c>, as <c>duration_ms</c> of a task),
/// and what they spent.
/// </summary>
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

/// <summary>The figures of the tasks created in one bucket, which starts at <c>start</c> (UTC).</summary>
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

/// <summary>A sub-agent's journaled runs in the window's tasks, and how many of them failed after every attempt.</summary>
public sealed record SubAgentFailureStatistics(
    [property: JsonPropertyName("sub_agent_id")] string SubAgentId,
    [property: JsonPropertyName("runs")] long Runs,
    [property: JsonPropertyName("failures")] long Failures,
    [property: JsonPropertyName("failure_rate")] double FailureRate);
