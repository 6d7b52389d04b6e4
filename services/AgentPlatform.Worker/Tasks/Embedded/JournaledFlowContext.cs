using System.Diagnostics;
using System.Text.Json;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;

namespace AgentPlatform.Worker.Tasks.Embedded;

/// <summary>
/// <see cref="ITaskFlowContext"/> by replay over the task's journal: a step already journaled returns its recorded
/// output (or its recorded failure) without running; any other step runs its activity under the step's retry and
/// timeout policy and is journaled before the flow sees its result. After a crash the flow runs again from the
/// top and fast-forwards to where it stopped.
/// </summary>
public sealed partial class JournaledFlowContext(
    TaskFlowInput task,
    string owner,
    IReadOnlyDictionary<string, TaskStep> journal,
    TaskActivityHost activities,
    TaskJournal writer,
    TimeProvider timeProvider,
    ILogger logger,
    CancellationToken cancellationRequested,
    CancellationToken stopping) : ITaskFlowContext
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public CancellationToken CancellationRequested => cancellationRequested;

    /// <summary>Steps this run executed (not replayed from the journal).</summary>
    public int Executed { get; private set; }

    public async Task<TOutput> RunAsync<TInput, TOutput>(string stepKey, ActivityDefinition<TInput, TOutput> activity, TInput input)
    {
        if (journal.TryGetValue(stepKey, out var recorded))
        {
            return recorded.Status == Succeeded
                ? JsonSerializer.Deserialize<TOutput>(recorded.Output!, TaskFlowJson.Options)!
                : throw new StepFailedException(stepKey, activity.Name, recorded.Attempts, recorded.Error ?? "failed");
        }

        stopping.ThrowIfCancellationRequested();
        if (!activity.RunsAfterCancellation)
        {
            cancellationRequested.ThrowIfCancellationRequested();
        }

        using var cancellation = activity.RunsAfterCancellation
            ? CancellationTokenSource.CreateLinkedTokenSource(stopping)
            : CancellationTokenSource.CreateLinkedTokenSource(stopping, cancellationRequested);
        var subAgent = input as SubAgentInput;
        if (subAgent is not null)
        {
            await writer.RecordEventAsync(task, owner, TaskProgressEvents.SubAgentStarted(stepKey, subAgent), stopping);
        }

        var inputJson = JsonSerializer.Serialize(input, TaskFlowJson.Options);
        var startedAt = timeProvider.GetUtcNow().UtcDateTime;
        var started = Stopwatch.GetTimestamp();
        var policy = activity.Policy;
        string error = "not run";
        var attempt = 0;
        while (attempt < policy.MaxAttempts)
        {
            attempt++;
            if (policy.BackoffBefore(attempt) is { } backoff && backoff > TimeSpan.Zero)
            {
                await Task.Delay(backoff, timeProvider, cancellation.Token);
            }

            using var attemptCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellation.Token);
            attemptCancellation.CancelAfter(policy.Timeout);
            try
            {
                var outputJson = await activities.RunAsync(activity.Name, inputJson, new TaskRunContext(task, stepKey, attempt), attemptCancellation.Token);
                var output = JsonSerializer.Deserialize<TOutput>(outputJson, TaskFlowJson.Options)!;
                var usage = (output as IReportsUsage)?.Usage ?? StepUsage.None;
                var step = NewStep(stepKey, activity.Name, Succeeded, subAgent, startedAt, attempt, usage);
                step.Output = outputJson;
                await writer.RecordStepAsync(task, owner, step, TaskProgressEvents.Finished(stepKey, input, output!, Stopwatch.GetElapsedTime(started)), stopping);
                Executed++;
                return output;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception) when (exception is not LeaseLostException)
            {
                error = exception is OperationCanceledException
                    ? $"timed out after {policy.Timeout.TotalSeconds:0.###} s"
                    : exception.Message;
                LogAttemptFailed(logger, exception, stepKey, activity.Name, attempt, policy.MaxAttempts);
                if (exception is PayloadTooLargeException)
                {
                    // The same input gives the same oversized output: trying again cannot help.
                    break;
                }
            }
        }

        var failed = NewStep(stepKey, activity.Name, Failed, subAgent, startedAt, attempt, StepUsage.None);
        failed.Error = error.Length > 4000 ? error[..4000] : error;
        var progress = subAgent is null ? null : TaskProgressEvents.SubAgentFailed(stepKey, subAgent, failed.Error, attempt, Stopwatch.GetElapsedTime(started));
        await writer.RecordStepAsync(task, owner, failed, progress, stopping);
        Executed++;
        throw new StepFailedException(stepKey, activity.Name, attempt, failed.Error);
    }

    public async Task<TOutput[]> WhenAllAsync<TOutput>(IReadOnlyList<Task<TOutput>> steps) => await Task.WhenAll(steps);

    private TaskStep NewStep(string key, string activity, string status, SubAgentInput? subAgent, DateTime startedAt, int attempts, StepUsage usage) => new()
    {
        TaskId = task.TaskId,
        TenantId = task.TenantId,
        Key = key,
        Activity = activity,
        Status = status,
        Attempts = attempts,
        SubAgentId = subAgent?.Assignment.SubAgentId,
        StartedAt = startedAt,
        CompletedAt = timeProvider.GetUtcNow().UtcDateTime,
        InputTokens = usage.InputTokens,
        OutputTokens = usage.OutputTokens,
        CostMicros = usage.CostMicros,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Step {StepKey} ({Activity}) failed on attempt {Attempt} of {MaxAttempts}")]
    private static partial void LogAttemptFailed(ILogger logger, Exception exception, string stepKey, string activity, int attempt, int maxAttempts);
}
