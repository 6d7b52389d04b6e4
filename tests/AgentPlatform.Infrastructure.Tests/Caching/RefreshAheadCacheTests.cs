using System.Collections.Concurrent;
using AgentPlatform.Infrastructure.Caching;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Caching;

public sealed class RefreshAheadCacheTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider time = new(DateTimeOffset.Parse("2026-11-26T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly Loads loads = new();
    private readonly ConcurrentQueue<(string Key, string Kind)> reports = new();

    [Fact]
    public async Task Callers_that_arrive_together_share_one_load()
    {
        var cache = NewCache();
        var callers = Enumerable.Range(0, 8).Select(_ => cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask()).ToList();
        await loads.WaitForAsync(1);
        loads.Complete(0, "v1");

        Assert.All(await Task.WhenAll(callers), value => Assert.Equal("v1", value));
        Assert.Equal(1, loads.Count);
    }

    [Fact]
    public async Task A_value_is_reloaded_in_the_background_after_half_its_lifetime_and_no_caller_waits()
    {
        var cache = await CacheWithAsync("v1");

        time.Advance(Lifetime / 2 - TimeSpan.FromSeconds(1));
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Equal(1, loads.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        var during = cache.GetAsync("t1", TestContext.Current.CancellationToken);
        Assert.True(during.IsCompletedSuccessfully, "A caller waited for the reload.");
        Assert.Equal("v1", await during);
        await loads.WaitForAsync(2);

        // One reload, however many callers see the value in its second half.
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Equal(2, loads.Count);

        loads.Complete(1, "v2");
        await EventuallyAsync(async () => await cache.GetAsync("t1", TestContext.Current.CancellationToken) == "v2");

        // The reloaded value's lifetime starts with its own load.
        time.Advance(Lifetime / 2 - TimeSpan.FromSeconds(1));
        Assert.Equal("v2", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Equal(2, loads.Count);
    }

    [Fact]
    public async Task An_expired_value_is_never_served_and_the_caller_waits_for_a_fresh_one()
    {
        var cache = await CacheWithAsync("v1");

        time.Advance(Lifetime);
        var call = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(2);
        Assert.False(call.IsCompleted);
        loads.Complete(1, "v2");

        Assert.Equal("v2", await call);
    }

    [Fact]
    public async Task A_failed_background_reload_keeps_the_value_until_it_expires_then_the_next_caller_loads_again()
    {
        var cache = await CacheWithAsync("v1");
        time.Advance(Lifetime / 2);
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        await loads.WaitForAsync(2);
        loads.Fail(1);
        await EventuallyAsync(() => Task.FromResult(reports.Contains(("t1", "refresh failed"))));

        // Not retried on every call while the database is down: the value in use stays until it expires.
        time.Advance(Lifetime / 2 - TimeSpan.FromSeconds(1));
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Equal(2, loads.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        var call = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(3);
        loads.Complete(2, "v3");
        Assert.Equal("v3", await call);
    }

    [Fact]
    public async Task A_failed_load_of_an_expired_value_fails_its_callers_unless_the_cache_keeps_stale_values()
    {
        var failing = await CacheWithAsync("v1");
        time.Advance(Lifetime);
        var call = failing.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(2);
        loads.Fail(1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => call);

        // The failure is not cached: the next caller tries again.
        var retry = failing.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(3);
        loads.Complete(2, "v2");
        Assert.Equal("v2", await retry);
    }

    [Fact]
    public async Task A_cache_that_keeps_stale_values_serves_the_last_one_for_another_lifetime_when_a_load_fails()
    {
        var cache = await CacheWithAsync("v1", keepStale: true);
        time.Advance(Lifetime);
        var call = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(2);
        loads.Fail(1);

        Assert.Equal("v1", await call);
        Assert.Contains(("t1", "stale"), reports);
        time.Advance(Lifetime / 2 - TimeSpan.FromSeconds(1));
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Equal(2, loads.Count);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_load_the_others_wait_for()
    {
        var cache = NewCache();
        using var giveUp = new CancellationTokenSource();
        var impatient = cache.GetAsync("t1", giveUp.Token).AsTask();
        var patient = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(1);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        loads.Complete(0, "v1");

        Assert.Equal("v1", await patient);
        Assert.Equal(1, loads.Count);
    }

    [Fact]
    public async Task Loads_run_without_the_callers_execution_context()
    {
        var ambient = new AsyncLocal<string>();
        string? seenByLoad = "not run";
        var cache = new RefreshAheadCache<string, string>(
            key =>
            {
                seenByLoad = ambient.Value;
                return Task.FromResult("v1");
            },
            () => Lifetime,
            time);

        ambient.Value = "request of tenant t1";
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        Assert.Null(seenByLoad);
    }

    [Fact]
    public async Task A_load_that_callers_wait_for_runs_on_the_thread_pool_and_a_background_reload_at_background_priority()
    {
        var threads = new ConcurrentQueue<(bool ThreadPool, bool BackgroundPriority)>();
        var cache = new RefreshAheadCache<string, string>(
            key =>
            {
                threads.Enqueue((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name == BackgroundPriority.ThreadName));
                return Task.FromResult("v" + threads.Count);
            },
            () => Lifetime,
            time);

        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        time.Advance(Lifetime / 2);
        Assert.Equal("v1", await cache.GetAsync("t1", TestContext.Current.CancellationToken));
        await EventuallyAsync(async () => await cache.GetAsync("t1", TestContext.Current.CancellationToken) == "v2");

        Assert.Equal([(true, false), (false, true)], threads.ToArray());
    }

    [Fact]
    public async Task Keys_are_loaded_and_invalidated_separately()
    {
        var cache = await CacheWithAsync("v1");
        var other = cache.GetAsync("t2", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(2);
        loads.Complete(1, "w1");
        Assert.Equal("w1", await other);
        Assert.Equal(["t1", "t2"], loads.Keys);

        cache.Invalidate("t1");
        var reloaded = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(3);
        loads.Complete(2, "v2");
        Assert.Equal("v2", await reloaded);
        Assert.Equal("w1", await cache.GetAsync("t2", TestContext.Current.CancellationToken));
    }

    private RefreshAheadCache<string, string> NewCache(bool keepStale = false) => new(
        loads.LoadAsync,
        () => Lifetime,
        time,
        keepStale: keepStale ? (key, _) => reports.Enqueue((key, "stale")) : null,
        refreshFailed: (key, _) => reports.Enqueue((key, "refresh failed")),
        comparer: StringComparer.Ordinal);

    private async Task<RefreshAheadCache<string, string>> CacheWithAsync(string value, bool keepStale = false)
    {
        var cache = NewCache(keepStale);
        var first = cache.GetAsync("t1", TestContext.Current.CancellationToken).AsTask();
        await loads.WaitForAsync(1);
        loads.Complete(0, value);
        Assert.Equal(value, await first);
        return cache;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Every load the cache starts, each completed by the test when it chooses.</summary>
    private sealed class Loads
    {
        private readonly Lock gate = new();
        private readonly List<(string Key, TaskCompletionSource<string> Result)> started = [];

        public int Count
        {
            get
            {
                lock (gate)
                {
                    return started.Count;
                }
            }
        }

        public IReadOnlyList<string> Keys
        {
            get
            {
                lock (gate)
                {
                    return [.. started.Select(load => load.Key)];
                }
            }
        }

        public Task<string> LoadAsync(string key)
        {
            var result = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                started.Add((key, result));
            }

            return result.Task;
        }

        public Task WaitForAsync(int count) => EventuallyAsync(() => Task.FromResult(Count >= count));

        public void Complete(int index, string value) => Result(index).SetResult(value);

        public void Fail(int index) => Result(index).SetException(new InvalidOperationException("The database is unreachable."));

        private TaskCompletionSource<string> Result(int index)
        {
            lock (gate)
            {
                return started[index].Result;
            }
        }
    }
}
