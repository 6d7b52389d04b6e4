using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using Microsoft.AspNetCore.Mvc;

namespace AgentPlatform.ControlPlane.Tasks;

// The tasks API speaks snake_case (task_id, trace_id, context_ref_id, result_ref_id), the names the platform's
// contract gives its correlation ids; list pages keep the envelope every list API shares (PagedResult).

/// <summary>
/// A task to run: its input inline (<c>input</c>: a string is text, an object or array is JSON) or as a
/// claim-check reference (<c>context_ref_id</c>), never both.
/// </summary>
public sealed record SubmitTaskRequest(
    [property: JsonPropertyName("input")] JsonElement? Input,
    [property: JsonPropertyName("context_ref_id")] string? ContextRefId,
    [property: JsonPropertyName("sub_agents")] IReadOnlyList<string>? SubAgents,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("priority")] int? Priority);

/// <summary>What the task was asked: where its input is, how large and of which type.</summary>
public sealed record TaskInputSummary(
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("context_ref_id")] string? ContextRefId);

/// <summary>The input with its content when it is stored inline (a string for text, the JSON itself for JSON).</summary>
public sealed record TaskInputDetails(
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("context_ref_id")] string? ContextRefId,
    [property: JsonPropertyName("content")] JsonElement? Content);

/// <summary>A task as lists, submissions and cancellations return it.</summary>
public sealed record TaskSummary(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("main_agent_id")] string MainAgentId,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("sub_agents")] IReadOnlyList<string> SubAgents,
    [property: JsonPropertyName("input")] TaskInputSummary Input,
    [property: JsonPropertyName("submitted_by")] string SubmittedBy,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("started_at")] DateTime? StartedAt,
    [property: JsonPropertyName("completed_at")] DateTime? CompletedAt,
    [property: JsonPropertyName("cancel_requested_at")] DateTime? CancelRequestedAt)
{
    public static TaskSummary From(AgentTask task) => new(
        task.Id,
        task.Status,
        task.TraceId,
        task.MainAgentId,
        task.Priority,
        task.TokenBudget,
        task.SubAgentHints,
        new TaskInputSummary(task.InputContentType, task.InputSize, task.InputRefId),
        task.SubmittedBy,
        task.CreatedAt,
        task.StartedAt,
        task.CompletedAt,
        task.CancelRequestedAt);
}

/// <summary>Everything about a task: its input, its run journal, what it spent and how it ended.</summary>
public sealed record TaskDetails(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("main_agent_id")] string MainAgentId,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("token_budget")] int? TokenBudget,
    [property: JsonPropertyName("sub_agents")] IReadOnlyList<string> SubAgents,
    [property: JsonPropertyName("input")] TaskInputDetails Input,
    [property: JsonPropertyName("submitted_by")] string SubmittedBy,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTime UpdatedAt,
    [property: JsonPropertyName("started_at")] DateTime? StartedAt,
    [property: JsonPropertyName("completed_at")] DateTime? CompletedAt,
    [property: JsonPropertyName("duration_ms")] long? DurationMs,
    [property: JsonPropertyName("cancel_requested_at")] DateTime? CancelRequestedAt,
    [property: JsonPropertyName("steps")] IReadOnlyList<TaskStepResponse> Steps,
    [property: JsonPropertyName("usage")] TaskUsage Usage,
    [property: JsonPropertyName("result")] JsonElement? Result,
    [property: JsonPropertyName("result_ref_id")] string? ResultRefId,
    [property: JsonPropertyName("result_size")] long? ResultSize,
    [property: JsonPropertyName("error")] TaskError? Error,
    [property: JsonPropertyName("judge")] TaskJudgement? Judge)
{
    public static TaskDetails From(AgentTask task, IReadOnlyList<TaskStep> steps) => new(
        task.Id,
        task.Status,
        task.TraceId,
        task.MainAgentId,
        task.Priority,
        task.TokenBudget,
        task.SubAgentHints,
        new TaskInputDetails(task.InputContentType, task.InputSize, task.InputRefId, task.Input is null ? null : InlineContent.From(task.Input, task.InputContentType)),
        task.SubmittedBy,
        task.CreatedAt,
        task.UpdatedAt,
        task.StartedAt,
        task.CompletedAt,
        MillisecondsBetween(task.StartedAt, task.CompletedAt),
        task.CancelRequestedAt,
        [.. steps.Select(TaskStepResponse.From)],
        TaskUsage.Of(task, steps),
        task.Result is null ? null : InlineContent.From(task.Result, contentType: null),
        task.ResultRefId,
        task.ResultSize,
        task.ErrorCode is null && task.ErrorMessage is null ? null : new TaskError(task.ErrorCode, task.ErrorMessage),
        task.JudgeScore is null && task.JudgePassed is null ? null : new TaskJudgement(task.JudgeScore, task.JudgePassed));

    internal static long? MillisecondsBetween(DateTime? startedAt, DateTime? completedAt) =>
        startedAt is { } started && completedAt is { } completed ? (long)(completed - started).TotalMilliseconds : null;
}

/// <summary>One journaled step of the task's run.</summary>
public sealed record TaskStepResponse(
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
    [property: JsonPropertyName("error")] string? Error)
{
    public static TaskStepResponse From(TaskStep step) => new(
        step.Key,
        step.Activity,
        step.Status,
        step.Attempts,
        step.SubAgentId,
        step.StartedAt,
        step.CompletedAt,
        TaskDetails.MillisecondsBetween(step.StartedAt, step.CompletedAt) ?? 0,
        step.InputTokens,
        step.OutputTokens,
        step.CostMicros,
        step.Error);
}

/// <summary>Tokens and cost of the task's model calls.</summary>
public sealed record TaskUsage(
    [property: JsonPropertyName("input_tokens")] long InputTokens,
    [property: JsonPropertyName("output_tokens")] long OutputTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens,
    [property: JsonPropertyName("cost_micros")] long CostMicros)
{
    /// <summary>
    /// The totals the runner recorded on the task once it ended; before that (or when it recorded none) the sum
    /// of the journaled steps, which is what has been spent so far.
    /// </summary>
    public static TaskUsage Of(AgentTask task, IReadOnlyList<TaskStep> steps)
    {
        if (TaskStatuses.IsFinal(task.Status) && (task.InputTokens != 0 || task.OutputTokens != 0 || task.CostMicros != 0))
        {
            return new(task.InputTokens, task.OutputTokens, task.InputTokens + task.OutputTokens, task.CostMicros);
        }

        var input = steps.Sum(s => s.InputTokens);
        var output = steps.Sum(s => s.OutputTokens);
        return new(input, output, input + output, steps.Sum(s => s.CostMicros));
    }
}

public sealed record TaskError(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

public sealed record TaskJudgement(
    [property: JsonPropertyName("score")] double? Score,
    [property: JsonPropertyName("passed")] bool? Passed);

/// <summary>Which tasks a list shows; every filter is optional. Times are UTC when they carry no offset.</summary>
public sealed record TaskQuery
{
    /// <summary>One or more statuses, repeated (<c>status=queued&amp;status=running</c>) or comma-separated.</summary>
    [FromQuery(Name = "status")]
    public string[]? Status { get; init; }

    /// <summary>Created at or after.</summary>
    [FromQuery(Name = "created_after")]
    public DateTimeOffset? CreatedAfter { get; init; }

    /// <summary>Created before.</summary>
    [FromQuery(Name = "created_before")]
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>The submitter's subject (<c>sub</c>), e.g. a user id.</summary>
    [FromQuery(Name = "submitted_by"), StringLength(200)]
    public string? SubmittedBy { get; init; }
}

/// <summary>The data of the events the tasks API itself records.</summary>
internal sealed record TaskSubmittedData(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("priority")] int Priority);

internal sealed record TaskCancellationData(
    [property: JsonPropertyName("task_id")] Guid TaskId,
    [property: JsonPropertyName("requested_by")] string RequestedBy);

/// <summary>Stored text as a response shows it: JSON as JSON, anything else as a string.</summary>
internal static class InlineContent
{
    public const string Json = "application/json";
    public const string Text = "text/plain";

    /// <summary>
    /// <paramref name="contentType"/> null means unknown: text that parses as a JSON object or array is shown as
    /// JSON (a bare <c>42</c> or <c>true</c> stays text, which is what an answer like that most likely is).
    /// </summary>
    public static JsonElement From(string content, string? contentType)
    {
        var looksLikeJson = contentType is null ? content.AsSpan().TrimStart() is ['{' or '[', ..] : contentType == Json;
        if (looksLikeJson)
        {
            try
            {
                using var document = JsonDocument.Parse(content);
                return document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON after all: shown as the text it is.
            }
        }

        return JsonSerializer.SerializeToElement(content);
    }
}
