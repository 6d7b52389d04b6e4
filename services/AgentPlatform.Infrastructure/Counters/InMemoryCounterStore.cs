using System.Collections.Concurrent;
using System.Globalization;
using AgentPlatform.Domain.Counters;

namespace AgentPlatform.Infrastructure.Counters;

/// <summary>
/// The embedded topology's <see cref="ICounterStore"/>: the counters live in this process, which is exact while
/// each service runs as one instance (several instances share counters only through Redis). Every operation is
/// one atomic dictionary update (token buckets: compare-and-swap on the clock of the injected
/// <see cref="TimeProvider"/>). An expired entry reads as absent at once and is swept every
/// <see cref="SweepInterval"/>, so keys that are never touched again do not hold memory forever.
/// </summary>
public sealed class InMemoryCounterStore : ICounterStore, IDisposable
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly TimeProvider timeProvider;
    private readonly ITimer sweeper;

    public InMemoryCounterStore(TimeProvider timeProvider)
    {
        this.timeProvider = timeProvider;
        sweeper = timeProvider.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    /// <summary>Entries held, expired ones included until the next sweep.</summary>
    public int Count => entries.Count;

    public ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var now = Now;
        var entry = entries.AddOrUpdate(
            key,
            static (_, state) => Entry.Counter(state.delta, ExpiryOf(state.now, state.window)),
            static (key, existing, state) => existing.IsLive(state.now)
                ? existing with { Count = checked(existing.AsCount(key) + state.delta), Text = null }
                : Entry.Counter(state.delta, ExpiryOf(state.now, state.window)),
            (delta, window, now));
        return ValueTask.FromResult(entry.Count);
    }

    public ValueTask<CounterReservation> TryIncrementWithinAsync(string key, long amount, long limit, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var now = Now;

        // Compare-and-swap: the check and the add hold only if the entry read is still the current one.
        while (true)
        {
            var exists = entries.TryGetValue(key, out var existing);
            var live = exists && existing.IsLive(now);
            var current = live ? existing.AsCount(key) : 0;
            if ((Int128)current + amount > limit)
            {
                return ValueTask.FromResult(new CounterReservation(false, current));
            }

            var updated = live
                ? existing with { Count = current + amount, Text = null }
                : Entry.Counter(amount, ExpiryOf(now, window));
            if (exists ? entries.TryUpdate(key, updated, existing) : entries.TryAdd(key, updated))
            {
                return ValueTask.FromResult(new CounterReservation(true, updated.Count));
            }
        }
    }

    public ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryGetLive(key, out var entry) ? entry.AsCount(key) : 0);

    public ValueTask<bool> TryAddAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        var now = Now;
        var candidate = Entry.Value(value, ExpiryOf(now, timeToLive));
        while (true)
        {
            if (entries.TryAdd(key, candidate))
            {
                return ValueTask.FromResult(true);
            }

            if (!entries.TryGetValue(key, out var existing))
            {
                continue;
            }

            if (existing.IsLive(now))
            {
                return ValueTask.FromResult(false);
            }

            // Replaces the expired entry only if nobody else replaced it meanwhile.
            if (entries.TryUpdate(key, candidate, existing))
            {
                return ValueTask.FromResult(true);
            }
        }
    }

    public ValueTask SetAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        entries[key] = Entry.Value(value, ExpiryOf(Now, timeToLive));
        return ValueTask.CompletedTask;
    }

    public ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryGetLive(key, out var entry) ? entry.AsText(key) : null);

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult(entries.TryRemove(key, out var removed) && removed.IsLive(Now));
    }

    public ValueTask<TokenBucketResult> TryTakeAsync(string key, int capacity, double refillPerSecond, int cost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        TokenBucketResult.ValidateArguments(capacity, refillPerSecond, cost);
        var now = Now;

        // Compare-and-swap, like every other operation here: the take is computed from the entry read and
        // stored only if that entry is still the current one, otherwise computed again.
        while (true)
        {
            var exists = entries.TryGetValue(key, out var existing);
            var bucket = exists && existing.IsLive(now)
                ? existing.Bucket ?? throw NotABucket(key)
                : new BucketState(capacity, now);

            var refilledAt = Math.Max(bucket.RefilledAt, now);
            var elapsedSeconds = (double)(refilledAt - bucket.RefilledAt) / TimeSpan.TicksPerSecond;
            var tokens = Math.Min(capacity, bucket.Tokens + (elapsedSeconds * refillPerSecond));
            var allowed = tokens >= cost;
            if (allowed)
            {
                tokens -= cost;
            }

            var untilFull = SecondsToTicks((capacity - tokens) / refillPerSecond);
            var updated = Entry.ForBucket(new BucketState(tokens, refilledAt), ExpiryOf(refilledAt, TimeSpan.FromTicks(untilFull)));
            if (exists ? entries.TryUpdate(key, updated, existing) : entries.TryAdd(key, updated))
            {
                var retryAfter = allowed ? TimeSpan.Zero : TimeSpan.FromTicks(SecondsToTicks((cost - tokens) / refillPerSecond));
                return ValueTask.FromResult(new TokenBucketResult(allowed, (long)Math.Floor(tokens), retryAfter));
            }
        }
    }

    public void Dispose() => sweeper.Dispose();

    private long Now => timeProvider.GetUtcNow().UtcTicks;

    private static long ExpiryOf(long now, TimeSpan duration) =>
        duration.Ticks >= long.MaxValue - now ? long.MaxValue : now + duration.Ticks;

    // Rounded up, so a bucket never reads as full, nor a retry as due, before it is.
    private static long SecondsToTicks(double seconds) =>
        seconds * TimeSpan.TicksPerSecond >= long.MaxValue ? long.MaxValue : (long)Math.Ceiling(seconds * TimeSpan.TicksPerSecond);

    private bool TryGetLive(string key, out Entry entry)
    {
        ArgumentNullException.ThrowIfNull(key);
        return entries.TryGetValue(key, out entry) && entry.IsLive(Now);
    }

    private void Sweep()
    {
        var now = Now;
        foreach (var pair in entries)
        {
            if (!pair.Value.IsLive(now))
            {
                // Removes the pair only if it is unchanged, so an entry re-created meanwhile survives.
                entries.TryRemove(pair);
            }
        }
    }

    /// <summary>
    /// A counter (<see cref="Text"/> and <see cref="Bucket"/> null), a value, or a token bucket; a value that is an
    /// integer counts like Redis.
    /// </summary>
    private readonly record struct Entry(long Count, string? Text, long ExpiresAt, BucketState? Bucket = null)
    {
        public static Entry Counter(long count, long expiresAt) => new(count, null, expiresAt);

        public static Entry Value(string text, long expiresAt) => new(0, text, expiresAt);

        public static Entry ForBucket(BucketState bucket, long expiresAt) => new(0, null, expiresAt, bucket);

        public bool IsLive(long now) => now < ExpiresAt;

        public string AsText(string key) =>
            Bucket is not null ? throw WrongKind(key)
            : Text ?? Count.ToString(CultureInfo.InvariantCulture);

        public long AsCount(string key) =>
            Bucket is not null ? throw NotACounter(key)
            : Text is null ? Count
            : long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) ? count
            : throw NotACounter(key);
    }

    /// <summary>A token bucket's tokens as of <see cref="RefilledAt"/> (ticks on the store's clock).</summary>
    private sealed record BucketState(double Tokens, long RefilledAt);

    internal static InvalidOperationException NotACounter(string key) =>
        new($"The key '{key}' holds a value that is not an integer or a token bucket; it cannot be used as a counter.");

    internal static InvalidOperationException NotABucket(string key) =>
        new($"The key '{key}' holds a counter or a value; it cannot be used as a token bucket.");

    internal static InvalidOperationException WrongKind(string key) =>
        new($"The key '{key}' holds a different kind of entry (counter, value or token bucket) than this operation uses.");
}
