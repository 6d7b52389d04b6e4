namespace AgentPlatform.ModelGateway.Governance;

/// <summary>How governance bounds its calls to the counters store.</summary>
internal static class StoreTimeouts
{
    /// <summary>
    /// The operation's result, or a <see cref="TimeoutException"/> once <paramref name="timeout"/> has passed. An
    /// operation that already completed (always, with the in-memory store) costs no task and no timer. Callers pass
    /// the store no cancellation of the request's: once a reservation may have been made, it must be known, not
    /// abandoned.
    /// </summary>
    public static ValueTask<T> WithTimeout<T>(this ValueTask<T> operation, TimeSpan timeout, TimeProvider timeProvider) =>
        operation.IsCompletedSuccessfully ? new(operation.Result) : new(operation.AsTask().WaitAsync(timeout, timeProvider));
}
