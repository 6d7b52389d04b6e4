using AgentPlatform.Orchestration;
using Temporalio.Workflows;

namespace AgentPlatform.Worker.Tasks.Temporal;

/// <summary>
/// A task run by Temporal: marks the task running, then runs <see cref="TaskFlow"/> — the same flow the embedded
/// runner replays from its journal — over <see cref="TemporalFlowContext"/>, which makes each step an activity.
/// Its id is <see cref="WorkflowId"/>, so a task has exactly one workflow. Workflow code: deterministic, no I/O.
/// </summary>
[Workflow]
public sealed class TaskWorkflow
{
    // The flow's cancellation: the cancel signal, or Temporal's own cancellation of the workflow.
    private readonly CancellationTokenSource cancellation = CancellationTokenSource.CreateLinkedTokenSource(Workflow.CancellationToken);
    private readonly List<StepProgress> finished = [];

    public static string WorkflowId(Guid taskId) => $"task-{taskId}";

    [WorkflowRun]
    public async Task<TaskFlowOutcome> RunAsync(TaskFlowInput input)
    {
        var start = await Workflow.ExecuteActivityAsync(
            (TaskWorkflowActivities activities) => activities.StartTaskAsync(input), TemporalFlowContext.BookkeepingOptions("start"));
        if (TaskStatuses.IsFinal(start.Status))
        {
            return new TaskFlowOutcome(start.Status);
        }

        if (start.CancelRequested)
        {
            Cancel();
        }

        return await TaskFlow.RunAsync(new TemporalFlowContext(input, start, finished, cancellation.Token), input);
    }

    /// <summary>The task's cancellation was requested: the step in flight is cancelled and the task ends cancelled.</summary>
    [WorkflowSignal("cancel")]
    public Task CancelAsync()
    {
        Cancel();
        return Task.CompletedTask;
    }

    /// <summary>The steps finished so far, in the order they finished.</summary>
    [WorkflowQuery("progress")]
    public IReadOnlyList<StepProgress> Progress() => [.. finished];

    // Synchronous on purpose: CancelAsync would run the token's callbacks off the workflow's scheduler.
    private void Cancel() => cancellation.Cancel();
}
