using System.Diagnostics;
using System.Text.Json;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks.Embedded;
using Microsoft.Extensions.Options;
using Temporalio.Activities;
using Temporalio.Exceptions;

namespace AgentPlatform.Worker.Tasks.Temporal;

/// <summary>
/// The task workflow's activities: one generic step activity that runs any of the flow's activities by name through
/// the same <see cref="TaskActivityHost"/> as the embedded runner, and the runner's bookkeeping — beginning the run
/// and journaling finished steps — through the same <see cref="TaskJournal"/>, so the API reads the same
/// <c>task_steps</c> and <c>task_events</c> whichever runner ran the task.
/// </summary>
public sealed class TaskWorkflowActivities(
    TaskJournal journal, TaskActivityHost activities, IOptionsMonitor<ClaimCheckOptions> claimCheck, ILogger<TaskWorkflowActivities> logger)
{
    /// <summary>Marks the task running (with its <c>started</c> event) unless it has ended, and reports what the workflow needs.</summary>
    [Activity("start-task")]
    public async Task<TaskRunStart> StartTaskAsync(TaskFlowInput task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var row = await journal.StartAsync(task.TenantId, task.TaskId, maxRuns: null, ActivityExecutionContext.Current.CancellationToken);
        return new TaskRunStart(row.Status, row.CancelRequestedAt is not null, claimCheck.CurrentValue.InlineThresholdBytes, row.TraceParent);
    }

    /// <summary>
    /// Runs one attempt of a step. It heartbeats while it runs, so a cancellation request reaches it (as the
    /// cancellation of <see cref="ActivityExecutionContext.CancellationToken"/>); a failure carries the attempt's
    /// number, and its type name is the error type the retry policy matches.
    /// </summary>
    [Activity("run-step")]
    public async Task<StepOutput> RunStepAsync(StepRun run, JsonElement input)
    {
        ArgumentNullException.ThrowIfNull(run);
        var context = ActivityExecutionContext.Current;
        var attempt = context.Info.Attempt;
        ActivityContext.TryParse(run.TraceParent, null, out var parent);
        using var span = TaskActivityHost.Source.StartActivity($"task step {run.StepKey}", ActivityKind.Internal, parent);
        using var logScope = logger.BeginScope(new Dictionary<string, object>
        {
            [PlatformTags.TraceId] = run.Task.TraceId,
            [PlatformTags.TenantId] = run.Task.TenantId,
            [PlatformTags.TaskId] = run.Task.TaskId,
            [PlatformTags.MainAgentId] = run.Task.MainAgentId,
        });
        using var heartbeats = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var heartbeating = HeartbeatAsync(context, heartbeats.Token);
        try
        {
            if (run.Started is { } started)
            {
                await journal.RecordEventAsync(run.Task, owner: null, started, context.CancellationToken);
            }

            var output = await activities.RunAsync(run.Activity, input.GetRawText(), new TaskRunContext(run.Task, run.StepKey, attempt), context.CancellationToken);
            return new StepOutput(attempt, JsonSerializer.Deserialize<JsonElement>(output));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw new ApplicationFailureException(exception.Message, exception, exception.GetType().Name, details: [attempt]);
        }
        finally
        {
            await heartbeats.CancelAsync();
            await heartbeating;
        }
    }

    /// <summary>Journals a finished step and its progress event; a step journaled already (a retried attempt) is left as it is.</summary>
    [Activity("record-step")]
    public Task RecordStepAsync(StepRecord record, JsonElement? output)
    {
        ArgumentNullException.ThrowIfNull(record);
        var step = new TaskStep
        {
            TaskId = record.Task.TaskId,
            TenantId = record.Task.TenantId,
            Key = record.StepKey,
            Activity = record.Activity,
            Status = record.Status,
            Output = output?.GetRawText(),
            Error = record.Error,
            Attempts = record.Attempts,
            SubAgentId = record.SubAgentId,
            StartedAt = record.StartedAt,
            CompletedAt = record.CompletedAt,
            InputTokens = record.Usage.InputTokens,
            OutputTokens = record.Usage.OutputTokens,
            CostMicros = record.Usage.CostMicros,
        };
        return journal.RecordStepAsync(record.Task, owner: null, step, record.Progress, ActivityExecutionContext.Current.CancellationToken);
    }

    private static async Task HeartbeatAsync(ActivityExecutionContext context, CancellationToken stop)
    {
        if (context.Info.HeartbeatTimeout is not { } timeout || timeout <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            while (true)
            {
                context.Heartbeat();
                await Task.Delay(timeout / 4, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
