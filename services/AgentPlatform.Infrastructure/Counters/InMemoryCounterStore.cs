using System.Collections.Concurrent;
using System.Globalization;
using AgentPlatform.Domain.Counters;

namespace AgentPlatform.Infrastructure.Counters;

/// <summary>
/// The embedded topology's <see cref="ICounterStore"/>: the counters live in this process, which is exact while
/// each service runs as one instance (several instances share counters only through Redis). Every operation is
/// one atomic dictionary update. An expired entry reads as absent at once and is swept every
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
        ValueTask.FromResult(TryGetLive(key, out var entry) ? entry.AsText() : null);

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult(entries.TryRemove(key, out var removed) && removed.IsLive(Now));
    }

    public void Dispose() => sweeper.Dispose();

    private long Now => timeProvider.GetUtcNow().UtcTicks;

    private static long ExpiryOf(long now, TimeSpan duration) =>
        duration.Ticks >= long.MaxValue - now ? long.MaxValue : now + duration.Ticks;

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

    /// <summary>A counter (<see cref="Text"/> null) or a value; a value that is an integer counts like Redis.</summary>
    private readonly record struct Entry(long Count, string? Text, long ExpiresAt)
    {
        public static Entry Counter(long count, long expiresAt) => new(count, null, expiresAt);

        public static Entry Value(string text, long expiresAt) => new(0, text, expiresAt);

        public bool IsLive(long now) => now < ExpiresAt;

        public string AsText() => Text ?? Count.ToString(CultureInfo.InvariantCulture);

        public long AsCount(string key) =>
            Text is null ? Count
            : long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) ? count
            : throw NotACounter(key);
    }

    internal static InvalidOperationException NotACounter(string key) =>
        new($"The key '{key}' holds a value that is not an integer; it cannot be used as a counter.");
}
