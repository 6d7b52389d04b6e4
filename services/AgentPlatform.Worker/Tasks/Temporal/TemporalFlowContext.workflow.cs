using System.Text;
using System.Text.Json;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks.Embedded;
using Temporalio.Api.Enums.V1;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentPlatform.Worker.Tasks.Temporal;

/// <summary>
/// <see cref="ITaskFlowContext"/> on Temporal: a step is the activity <see cref="TaskWorkflowActivities.RunStepAsync"/>
/// by name (the <see cref="TaskActivityHost"/> dispatches it, as for the embedded runner), retried and timed out by
/// Temporal under the step's <see cref="StepPolicy"/>, and then journaled (<c>task_steps</c> and its progress event)
/// before the flow sees its result. Workflow history is the replay log; the journal is what the API reads. A step
/// that fails every attempt is journaled failed and reaches the flow as <see cref="StepFailedException"/>; a
/// cancellation request cancels the step in flight (the flow sees <see cref="OperationCanceledException"/>), while
/// the steps that run after cancellation and the bookkeeping run on a detached token.
/// </summary>
public sealed class TemporalFlowContext(
    TaskFlowInput task, TaskRunStart start, List<StepProgress> finished, CancellationToken cancellationRequested) : ITaskFlowContext
{
    /// <summary>How long a running step may go without a heartbeat; heartbeats are also how it learns of cancellation.</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(10);

    public CancellationToken CancellationRequested => cancellationRequested;

    public async Task<TOutput> RunAsync<TInput, TOutput>(string stepKey, ActivityDefinition<TInput, TOutput> activity, TInput input)
    {
        ArgumentNullException.ThrowIfNull(activity);
        if (!activity.RunsAfterCancellation)
        {
            cancellationRequested.ThrowIfCancellationRequested();
        }

        var cancellation = activity.RunsAfterCancellation ? CancellationToken.None : cancellationRequested;
        var subAgent = input as SubAgentInput;
        var startedAt = Workflow.UtcNow;
        StepOutput result;
        try
        {
            var inputJson = JsonSerializer.SerializeToElement(input, TaskFlowJson.Options);
            EnsureInline(stepKey, inputJson, start.InlineThresholdBytes);
            var run = new StepRun(task, stepKey, activity.Name, start.TraceParent,
                subAgent is null ? null : TaskProgressEvents.SubAgentStarted(stepKey, subAgent));
            result = await Workflow.ExecuteActivityAsync(
                (TaskWorkflowActivities activities) => activities.RunStepAsync(run, inputJson), StepOptions(stepKey, activity.Policy, cancellation));
        }
        catch (Exception exception) when (cancellation.IsCancellationRequested && TemporalException.IsCanceledException(exception))
        {
            throw new OperationCanceledException($"The step '{stepKey}' was cancelled with its task.", exception, cancellation);
        }
        catch (Exception exception) when (exception is ActivityFailureException or PayloadTooLargeException)
        {
            var failure = StepFailure(stepKey, activity.Name, activity.Policy, exception);
            var progress = subAgent is null
                ? null
                : TaskProgressEvents.SubAgentFailed(stepKey, subAgent, failure.Reason, failure.Attempts, Workflow.UtcNow - startedAt);
            await RecordAsync(Record(stepKey, activity.Name, JournaledFlowContext.Failed, failure.Attempts, subAgent, startedAt, StepUsage.None, failure.Reason, progress), null);
            throw failure;
        }

        var output = result.Output.Deserialize<TOutput>(TaskFlowJson.Options)
            ?? throw new InvalidOperationException($"The step '{stepKey}' ({activity.Name}) returned no output.");
        var usage = (output as IReportsUsage)?.Usage ?? StepUsage.None;
        await RecordAsync(
            Record(stepKey, activity.Name, JournaledFlowContext.Succeeded, result.Attempts, subAgent, startedAt, usage, null,
                TaskProgressEvents.Finished(stepKey, input, output, Workflow.UtcNow - startedAt)),
            result.Output);
        return output;
    }

    public Task<TOutput[]> WhenAllAsync<TOutput>(IReadOnlyList<Task<TOutput>> steps) => Workflow.WhenAllAsync(steps);

    /// <summary>
    /// How a step's activity runs: each attempt gets the policy's timeout, failed attempts are retried with the
    /// policy's backoff doubled each time, up to its attempts; an oversized payload is not retried (the same input
    /// gives the same output). The step key is the activity's summary, as the UI and CLI show it.
    /// </summary>
    public static ActivityOptions StepOptions(string stepKey, StepPolicy policy, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new()
        {
            StartToCloseTimeout = policy.Timeout,
            HeartbeatTimeout = HeartbeatTimeout < policy.Timeout ? HeartbeatTimeout : null,
            RetryPolicy = new RetryPolicy
            {
                MaximumAttempts = policy.MaxAttempts,
                InitialInterval = policy.InitialBackoff,
                BackoffCoefficient = 2,
                NonRetryableErrorTypes = [nameof(PayloadTooLargeException)],
            },
            CancellationToken = cancellation,
            Summary = stepKey,
        };
    }

    /// <summary>
    /// How the runner's own activities run (starting the task, journaling a step): retried without limit, because a
    /// database outage should delay the task rather than fail it, and never cancelled, because they record what
    /// happened.
    /// </summary>
    public static ActivityOptions BookkeepingOptions(string summary) => new()
    {
        StartToCloseTimeout = TimeSpan.FromSeconds(30),
        RetryPolicy = new RetryPolicy { InitialInterval = TimeSpan.FromSeconds(1), BackoffCoefficient = 2, MaximumInterval = TimeSpan.FromMinutes(1) },
        CancellationToken = CancellationToken.None,
        Summary = summary,
    };

    /// <summary>
    /// The flow's view of a step that failed for good: the reason of its last attempt and how many attempts ran
    /// (the activity reports its attempt with its failure; a timeout after every attempt counts them all).
    /// </summary>
    public static StepFailedException StepFailure(string stepKey, string activity, StepPolicy policy, Exception failure)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(failure);
        var attempts = failure is ActivityFailureException { RetryState: RetryState.MaximumAttemptsReached } ? policy.MaxAttempts : 1;
        var reason = failure.InnerException?.Message ?? failure.Message;
        switch (failure.InnerException)
        {
            case ApplicationFailureException application:
                reason = application.Message;
                if (application.Details.Count > 0)
                {
                    attempts = application.Details.ElementAt<int>(0);
                }

                break;
            case TimeoutFailureException:
                reason = $"timed out after {policy.Timeout.TotalSeconds:0.###} s";
                break;
        }

        return new StepFailedException(stepKey, activity, attempts, reason.Length > 4000 ? reason[..4000] : reason);
    }

    // The activity host refuses an oversized input too, but in a workflow the codec would refuse it first, failing the
    // workflow task over and over; refusing it here fails the step, as the embedded runner does.
    private static void EnsureInline(string stepKey, JsonElement input, int threshold)
    {
        var size = Encoding.UTF8.GetByteCount(input.GetRawText());
        if (size > threshold)
        {
            throw new PayloadTooLargeException($"The input of step '{stepKey}'", size, threshold);
        }
    }

    private StepRecord Record(
        string stepKey, string activity, string status, int attempts, SubAgentInput? subAgent, DateTime startedAt, StepUsage usage, string? error,
        TaskProgressEvent? progress) =>
        new(task, stepKey, activity, status, attempts, subAgent?.Assignment.SubAgentId, startedAt, Workflow.UtcNow, usage, error, progress);

    private async Task RecordAsync(StepRecord record, JsonElement? output)
    {
        await Workflow.ExecuteActivityAsync(
            (TaskWorkflowActivities activities) => activities.RecordStepAsync(record, output), BookkeepingOptions($"journal {record.StepKey}"));
        finished.Add(new StepProgress(record.StepKey, record.Status));
    }
}
