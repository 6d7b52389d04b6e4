using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentPlatform.Console.Tasks;

// The control plane's tasks API (snake_case, see services/AgentPlatform.ControlPlane/Tasks/TaskContracts.cs), as far
// as the console reads it.

public static class TaskStatusNames
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } = [Queued, Running, Completed, Failed, Cancelled];

    public static bool IsFinal(string? status) => status is Completed or Failed or Cancelled;
}

public sealed record SubmitTaskRequest(
    [property: JsonPropertyName("input")] string Input,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("priority")] int? Priority);

public sealed record TaskInputSummary(
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("context_ref_id")] string? ContextRefId);

public sealed record TaskSummary(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("input")] TaskInputSummary Input,
    [property: JsonPropertyName("submitted_by")] string SubmittedBy,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("started_at")] DateTime? StartedAt,
    [property: JsonPropertyName("completed_at")] DateTime? CompletedAt,
    [property: JsonPropertyName("cancel_requested_at")] DateTime? CancelRequestedAt);

public sealed record TaskDetails(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("main_agent_id")] string MainAgentId,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("input")] TaskInputSummary Input,
    [property: JsonPropertyName("submitted_by")] string SubmittedBy,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("started_at")] DateTime? StartedAt,
    [property: JsonPropertyName("completed_at")] DateTime? CompletedAt,
    [property: JsonPropertyName("duration_ms")] long? DurationMs,
    [property: JsonPropertyName("cancel_requested_at")] DateTime? CancelRequestedAt,
    [property: JsonPropertyName("steps")] IReadOnlyList<TaskStep> Steps,
    [property: JsonPropertyName("usage")] TaskUsage Usage,
    [property: JsonPropertyName("result")] JsonElement? Result,
    [property: JsonPropertyName("result_ref_id")] string? ResultRefId,
    [property: JsonPropertyName("result_size")] long? ResultSize,
    [property: JsonPropertyName("error")] TaskError? Error,
    [property: JsonPropertyName("judge")] TaskJudgement? Judge);

public sealed record TaskStep(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("activity")] string Activity,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("sub_agent_id")] string? SubAgentId,
    [property: JsonPropertyName("started_at")] DateTime StartedAt,
    [property: JsonPropertyName("completed_at")] DateTime CompletedAt,
    [property: JsonPropertyName("duration_ms")] long DurationMs,
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("cost_micros")] long CostMicros,
    [property: JsonPropertyName("error")] string? Error);

public sealed record TaskUsage(
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens,
    [property: JsonPropertyName("cost_micros")] long CostMicros);

public sealed record TaskError(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

public sealed record TaskJudgement(
    [property: JsonPropertyName("score")] double? Score,
    [property: JsonPropertyName("passed")] bool? Passed);
