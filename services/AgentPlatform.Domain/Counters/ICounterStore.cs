namespace AgentPlatform.Domain.Counters;

/// <summary>
/// Counters, token buckets and short-lived entries shared by every instance of every service: the building
/// block of rate limits, budgets and idempotency keys. Every operation is atomic. Keys are global: callers put
/// the tenant (and anything else that scopes the value) into the key. A key holds a counter, a value or a token
/// bucket; a value counts only when it is an integer, otherwise counting it throws
/// <see cref="InvalidOperationException"/>. A bucket's key serves only <see cref="TryTakeAsync"/> (and
/// <see cref="RemoveAsync"/>): reading or counting it, or taking from a key that holds anything else, throws
/// <see cref="InvalidOperationException"/>. Windows and times to live must be positive.
/// </summary>
public interface ICounterStore
{
    /// <summary>
    /// Adds <paramref name="delta"/> to the counter and returns the new value. A counter that does not exist
    /// starts at zero and expires <paramref name="window"/> after this first increment (a fixed window);
    /// later increments do not extend it.
    /// </summary>
    ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds <paramref name="amount"/> to the counter only if the result stays at or below <paramref name="limit"/>,
    /// in one atomic step: concurrent reservations can never take the counter past the limit together (no
    /// check-then-add race). A refused reservation changes nothing, and does not create the counter. A counter
    /// that does not exist starts at zero and, when this reservation creates it, expires <paramref name="window"/>
    /// later (a fixed window, like <see cref="IncrementAsync"/>). Release or adjust a reservation with
    /// <see cref="IncrementAsync"/> (a negative delta). The amount must not be negative.
    /// </summary>
    ValueTask<CounterReservation> TryIncrementWithinAsync(string key, long amount, long limit, TimeSpan window, CancellationToken cancellationToken = default);

    /// <summary>The counter's value, or zero when it does not exist or has expired.</summary>
    ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores the value only if the key holds nothing; true when this call stored it.</summary>
    ValueTask<bool> TryAddAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>Stores the value, replacing any previous one.</summary>
    ValueTask SetAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Removes the key (counter, entry or bucket); true when it existed.</summary>
    ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes <paramref name="cost"/> tokens from the token bucket at <paramref name="key"/> if it holds that many;
    /// a denied take takes nothing. A bucket that does not exist is full: it holds <paramref name="capacity"/>
    /// tokens and regains <paramref name="refillPerSecond"/> tokens per second, never more than its capacity.
    /// Time is the store's own clock (Redis: the server's), so every instance of every service agrees on it. A
    /// bucket disappears once it is full again, so idle buckets hold no memory. The capacity must be positive,
    /// the refill rate positive and finite, and the cost between 1 and the capacity.
    /// </summary>
    ValueTask<TokenBucketResult> TryTakeAsync(string key, int capacity, double refillPerSecond, int cost, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of <see cref="ICounterStore.TryIncrementWithinAsync"/>.</summary>
/// <param name="Allowed">Whether the amount was added.</param>
/// <param name="Value">The counter after this call: the new value when allowed, the unchanged one when refused.</param>
public readonly record struct CounterReservation(bool Allowed, long Value);

/// <summary>The outcome of <see cref="ICounterStore.TryTakeAsync"/>.</summary>
/// <param name="Allowed">Whether the tokens were taken.</param>
/// <param name="Remaining">Whole tokens left in the bucket after this take.</param>
/// <param name="RetryAfter">
/// When denied, how long until the bucket holds enough tokens for the same cost (if nobody else takes
/// meanwhile); zero when allowed.
/// </param>
public readonly record struct TokenBucketResult(bool Allowed, long Remaining, TimeSpan RetryAfter)
{
    /// <summary>Throws unless the arguments describe a bucket a take can ever succeed on.</summary>
    public static void ValidateArguments(int capacity, double refillPerSecond, int cost)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (!double.IsFinite(refillPerSecond) || refillPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(refillPerSecond), refillPerSecond, "The refill rate must be positive and finite.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(cost, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cost, capacity);
    }
}
