namespace AgentPlatform.Orchestration;

/// <summary>
/// What the macro flow may ask of its runner. Everything is deterministic, so a runner can rebuild the flow's
/// state after a crash by running it again from the top: a step whose key is already journaled returns its
/// recorded output instead of running again. The Temporal runner maps these onto
/// <c>Workflow.ExecuteActivityAsync</c> and <c>Workflow.WhenAllAsync</c>. The flow reads no clock: timings are
/// the activities' business.
/// </summary>
public interface ITaskFlowContext
{
    /// <summary>Fires when the task's cancellation was requested; steps in flight are cancelled with it.</summary>
    CancellationToken CancellationRequested { get; }

    /// <summary>
    /// Runs the activity <paramref name="activity"/> once as the step <paramref name="stepKey"/> (unique within
    /// the task), retried and timed out by its policy, or returns the step's journaled output. Inputs and outputs
    /// travel serialized and must fit the claim-check threshold (<see cref="PayloadTooLargeException"/>).
    /// </summary>
    /// <exception cref="StepFailedException">The activity failed on every attempt its policy allows.</exception>
    /// <exception cref="OperationCanceledException">The task's cancellation was requested.</exception>
    Task<TOutput> RunAsync<TInput, TOutput>(string stepKey, ActivityDefinition<TInput, TOutput> activity, TInput input);

    /// <summary>Waits for every one of <paramref name="steps"/>; the way to run steps concurrently.</summary>
    Task<TOutput[]> WhenAllAsync<TOutput>(IReadOnlyList<Task<TOutput>> steps);
}

/// <summary>
/// An activity's name (what the runners dispatch on) and how its steps are retried and timed out. An activity
/// that <paramref name="RunsAfterCancellation"/> (the one recording the cancellation, say) still runs once the
/// task's cancellation was requested; any other step is refused then.
/// </summary>
public sealed record ActivityDefinition<TInput, TOutput>(string Name, StepPolicy Policy, bool RunsAfterCancellation = false);

/// <summary>
/// How one step is run: each attempt gets <see cref="Timeout"/>; a failed attempt is retried after
/// <see cref="InitialBackoff"/>, doubled each time, until <see cref="MaxAttempts"/> attempts have failed.
/// </summary>
public sealed record StepPolicy(TimeSpan Timeout, int MaxAttempts, TimeSpan InitialBackoff)
{
    public TimeSpan BackoffBefore(int attempt) => attempt <= 1 ? TimeSpan.Zero : InitialBackoff * Math.Pow(2, attempt - 2);
}

/// <summary>A step failed on every attempt its policy allows.</summary>
public sealed class StepFailedException(string stepKey, string activity, int attempts, string reason)
    : Exception($"The step '{stepKey}' ({activity}) failed after {attempts} attempt(s): {reason}")
{
    public string StepKey { get; } = stepKey;

    public string Activity { get; } = activity;

    public int Attempts { get; } = attempts;

    public string Reason { get; } = reason;
}

/// <summary>
/// A payload bound for workflow history, the journal or an event is larger than the claim-check threshold. Only
/// references (<c>context_ref_id</c>, <c>result_ref_id</c>) may travel there; the payload itself goes to the
/// payload store.
/// </summary>
public sealed class PayloadTooLargeException(string where, long size, long threshold)
    : Exception($"{where}: a payload of {size} bytes is above the claim-check threshold of {threshold} bytes; store it in the payload store and pass its reference.")
{
    public string Where { get; } = where;

    public long Size { get; } = size;

    public long Threshold { get; } = threshold;
}
