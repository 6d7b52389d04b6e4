namespace AgentPlatform.Domain.Counters;

/// <summary>
/// Counters and short-lived entries shared by every instance of every service: the building block of rate
/// limits, budgets and idempotency keys. Every operation is atomic. Keys are global: callers put the tenant
/// (and anything else that scopes the value) into the key. A key holds a counter or a value; a value counts
/// only when it is an integer, otherwise counting it throws <see cref="InvalidOperationException"/>.
/// Windows and times to live must be positive.
/// </summary>
public interface ICounterStore
{
    /// <summary>
    /// Adds <paramref name="delta"/> to the counter and returns the new value. A counter that does not exist
    /// starts at zero and expires <paramref name="window"/> after this first increment (a fixed window);
    /// later increments do not extend it.
    /// </summary>
    ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>The counter's value, or zero when it does not exist or has expired.</summary>
    ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores the value only if the key holds nothing; true when this call stored it.</summary>
    ValueTask<bool> TryAddAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>Stores the value, replacing any previous one.</summary>
    ValueTask SetAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Removes the key (counter or entry); true when it existed.</summary>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default);
}
