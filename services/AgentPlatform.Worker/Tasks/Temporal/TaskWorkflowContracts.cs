using System.Text.Json;
using AgentPlatform.Orchestration;

namespace AgentPlatform.Worker.Tasks.Temporal;

// What the task workflow and its activities exchange. Everything here enters workflow history, so it stays small
// (the claim-check codec refuses anything above the threshold); step inputs and outputs travel as JSON elements,
// each its own payload, exactly the bytes the activity host checks.

/// <summary>
/// What the workflow learns as its run begins: the task's status (a final one: nothing to run), whether its
/// cancellation was requested already, the claim-check threshold (so an oversized step input fails that step
/// instead of reaching the codec) and the submission's trace context (the run's spans continue it).
/// </summary>
public sealed record TaskRunStart(string Status, bool CancelRequested, int InlineThresholdBytes, string? TraceParent);

/// <summary>
/// One step to run: the activity <paramref name="Activity"/> as the step <paramref name="StepKey"/>, and the event to
/// record before it runs (a sub-agent's <c>sub-agent.started</c>).
/// </summary>
public sealed record StepRun(TaskFlowInput Task, string StepKey, string Activity, string? TraceParent, TaskProgressEvent? Started);

/// <summary>A step's output and the attempt that produced it.</summary>
public sealed record StepOutput(int Attempts, JsonElement Output);

/// <summary>A finished step for the journal (<c>task_steps</c>) and the progress event it reports.</summary>
public sealed record StepRecord(
    TaskFlowInput Task,
    string StepKey,
    string Activity,
    string Status,
    int Attempts,
    string? SubAgentId,
    DateTime StartedAt,
    DateTime CompletedAt,
    StepUsage Usage,
    string? Error,
    TaskProgressEvent? Progress);

/// <summary>A finished step as the workflow's <c>progress</c> query reports it.</summary>
public sealed record StepProgress(string Key, string Status);
