using System.Collections.Concurrent;

namespace AgentPlatform.Infrastructure.Caching;

/// <summary>
/// A cache for settings read on a hot path (a tenant's model routes, a caller's budgets), where a caller must never
/// wait for the database while the value is in use.
/// <list type="bullet">
/// <item>A value is served for at most its lifetime after its load began, so a change is seen within one lifetime.</item>
/// <item>Past half its lifetime, the first caller to see it starts one reload in the background and still gets the
/// cached value; under steady traffic a value is replaced before it expires and no caller waits.</item>
/// <item>A missing or expired value is loaded once, however many callers ask for it at the same moment; they all wait
/// for that one load.</item>
/// <item>When that load fails, callers get the exception, or, if the cache was made with a
/// <c>keepStale</c> callback, the value last loaded for another lifetime.</item>
/// </list>
/// </summary>
public sealed class RefreshAheadCache<TKey, TValue>
    where TKey : notnull
{
    // Beyond this many keys, expired entries are dropped when a new one is added.
    private readonly int pruneThreshold;
    private readonly Func<TKey, Task<TValue>> load;
    private readonly Func<TimeSpan> lifetime;
    private readonly Action<TKey, Exception>? keepStale;
    private readonly Action<TKey, Exception>? refreshFailed;
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<TKey, Entry> entries;

    /// <param name="load">Reads the value of a key. It runs detached from any caller, so it takes no caller's token.</param>
    /// <param name="lifetime">How long a value is served after its load began; read on every call, so it can change.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="keepStale">When given, a failed load of an expired value is reported here and the old value served for another lifetime.</param>
    /// <param name="refreshFailed">A failed background reload is reported here; the value in use stays until it expires.</param>
    /// <param name="comparer">Compares keys.</param>
    /// <param name="pruneThreshold">How many keys are kept before expired ones are dropped.</param>
    public RefreshAheadCache(
        Func<TKey, Task<TValue>> load,
        Func<TimeSpan> lifetime,
        TimeProvider timeProvider,
        Action<TKey, Exception>? keepStale = null,
        Action<TKey, Exception>? refreshFailed = null,
        IEqualityComparer<TKey>? comparer = null,
        int pruneThreshold = 10_000)
    {
        this.load = load;
        this.lifetime = lifetime;
        this.timeProvider = timeProvider;
        this.keepStale = keepStale;
        this.refreshFailed = refreshFailed;
        this.pruneThreshold = pruneThreshold;
        entries = new ConcurrentDictionary<TKey, Entry>(comparer);
    }

    public ValueTask<TValue> GetAsync(TKey key, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var lifetime = this.lifetime();
        if (entries.TryGetValue(key, out var entry) && entry.Value.IsCompletedSuccessfully)
        {
            var age = now - entry.LoadedAt;
            if (age < lifetime)
            {
                if (age >= lifetime / 2)
                {
                    RefreshInBackground(key, entry);
                }

                return ValueTask.FromResult(entry.Value.Result);
            }
        }

        return new ValueTask<TValue>(LoadSharedAsync(key, entry, now, lifetime, cancellationToken));
    }

    /// <summary>Forgets <paramref name="key"/>'s value: the next caller loads it again.</summary>
    public void Invalidate(TKey key) => entries.TryRemove(key, out _);

    private async Task<TValue> LoadSharedAsync(TKey key, Entry? seen, DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var fresh = new Entry(now, new Lazy<Task<TValue>>(() => Detached(key)));
        var entry = entries.AddOrUpdate(
            key,
            static (_, fresh) => fresh,
            // Another caller's load that is still running or has just succeeded is joined, not repeated.
            (_, existing, fresh) => now - existing.LoadedAt < lifetime && !existing.Value.IsFaulted ? existing : fresh,
            fresh);
        if (ReferenceEquals(entry, fresh))
        {
            Prune(now, lifetime);
        }

        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException
            && keepStale is not null
            && seen is { Value.IsCompletedSuccessfully: true })
        {
            keepStale(key, exception);
            entries.TryUpdate(key, new Entry(now, new Lazy<Task<TValue>>(seen.Value)), entry);
            return seen.Value.Result;
        }
    }

    private void RefreshInBackground(TKey key, Entry entry)
    {
        if (!entry.TryBeginRefresh())
        {
            return;
        }

        // Nobody waits for a reload: it runs at background priority, off the thread pool that serves the callers.
        var reload = new Entry(timeProvider.GetUtcNow(), new Lazy<Task<TValue>>(BackgroundPriority.Run(() => load(key))));
        reload.Value.ContinueWith(
            (task, state) =>
            {
                var (cache, key, current, reload) = ((RefreshAheadCache<TKey, TValue>, TKey, Entry, Entry))state!;
                if (task.IsCompletedSuccessfully)
                {
                    cache.entries.TryUpdate(key, reload, current);
                }
                else
                {
                    // The value in use stays until it expires; the caller that finds it expired then loads it.
                    cache.refreshFailed?.Invoke(key, task.Exception?.GetBaseException() ?? new TaskCanceledException(task));
                }
            },
            (this, key, entry, reload),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    // A load that callers wait for: on the thread pool and without the caller's execution context, as it blocks for as
    // long as the database takes (SQLite's driver is synchronous) and belongs to no one request's trace or tenant.
    private Task<TValue> Detached(TKey key)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => load(key));
        }
    }

    private void Prune(DateTimeOffset now, TimeSpan lifetime)
    {
        if (entries.Count < pruneThreshold)
        {
            return;
        }

        foreach (var pair in entries)
        {
            if (now - pair.Value.LoadedAt >= lifetime)
            {
                entries.TryRemove(pair);
            }
        }
    }

    // The load is started by the first reader of Value: only an entry that made it into the dictionary is read.
    private sealed class Entry(DateTimeOffset loadedAt, Lazy<Task<TValue>> load)
    {
        private int refreshing;

        /// <summary>When the load of <see cref="Value"/> began.</summary>
        public DateTimeOffset LoadedAt { get; } = loadedAt;

        public Task<TValue> Value => load.Value;

        public bool TryBeginRefresh() => Interlocked.Exchange(ref refreshing, 1) == 0;
    }
}
