using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;

namespace AgentPlatform.Worker.Tasks;

/// <summary>A progress event to record: its type, the key that makes it idempotent, and its data.</summary>
public sealed record TaskProgressEvent(string Type, string Key, object Data);

/// <summary>
/// The progress events a task's steps report, one per finished step (the final ones — completed, failed,
/// cancelled — are written by their activities together with the task's final state). Data carries ids,
/// numbers and short text, never payloads: content travels as references.
/// </summary>
public static class TaskProgressEvents
{
    public static TaskProgressEvent SubAgentStarted(string stepKey, SubAgentInput input) => new(
        TaskEventTypes.SubAgentStarted,
        $"{TaskEventTypes.SubAgentStarted}/{stepKey}",
        new { step = stepKey, subtask_id = input.Subtask.Id, sub_agent_id = input.Assignment.SubAgentId, description = input.Subtask.Description });

    /// <summary>The event of a finished step, or null for a step that reports none.</summary>
    public static TaskProgressEvent? Finished(string stepKey, object? input, object output, TimeSpan duration) => output switch
    {
        TaskPlan plan => new(TaskEventTypes.Planned, TaskEventTypes.Planned, new
        {
            goal = plan.Goal,
            summary = plan.Summary,
            subtasks = plan.Subtasks.Select(s => new { id = s.Id, description = s.Description, domain = s.Domain, depends_on = s.DependsOn }),
        }),
        RoutingDecision routing => new(TaskEventTypes.Routed, TaskEventTypes.Routed, new
        {
            assignments = routing.Assignments.Select(a => new { subtask_id = a.SubtaskId, sub_agent_id = a.SubAgentId, confidence = a.Confidence, reason = a.Reason }),
        }),
        SubAgentResult result => SubAgentFinished(stepKey, result, duration),
        AggregateResult aggregate => new(TaskEventTypes.Aggregated, TaskEventTypes.Aggregated, new
        {
            sources = aggregate.Sources,
            size = aggregate.Answer.Size,
            result_ref_id = aggregate.Answer.RefId,
        }),
        Judgement judgement => new(TaskEventTypes.Judged, TaskEventTypes.Judged, new { score = judgement.Score, passed = judgement.Passed, reason = judgement.Reason }),
        _ => null,
    };

    /// <summary>A sub-agent step that failed on every attempt still finishes, as failed.</summary>
    public static TaskProgressEvent SubAgentFailed(string stepKey, SubAgentInput input, string error, int attempts, TimeSpan duration) => new(
        TaskEventTypes.SubAgentFinished,
        $"{TaskEventTypes.SubAgentFinished}/{stepKey}",
        new
        {
            step = stepKey,
            subtask_id = input.Subtask.Id,
            sub_agent_id = input.Assignment.SubAgentId,
            status = SubAgentStatuses.Failed,
            error,
            attempts,
            duration_ms = (long)duration.TotalMilliseconds,
        });

    private static TaskProgressEvent SubAgentFinished(string stepKey, SubAgentResult result, TimeSpan duration) => new(
        TaskEventTypes.SubAgentFinished,
        $"{TaskEventTypes.SubAgentFinished}/{stepKey}",
        new
        {
            step = stepKey,
            subtask_id = result.SubtaskId,
            sub_agent_id = result.SubAgentId,
            status = result.Status,
            error = result.Error,
            citations = result.Citations.Count,
            input_tokens = result.Usage.InputTokens,
            output_tokens = result.Usage.OutputTokens,
            cost_micros = result.Usage.CostMicros,
            duration_ms = (long)duration.TotalMilliseconds,
        });
}
