using System.Diagnostics;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Infrastructure.Counters;
using AgentPlatform.Testing;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Counters;

/// <summary>
/// The counter store's contract, run against the in-process store (on a fake clock) and Redis (on the real
/// clock). Time-dependent tests poll the store in small steps of the adapter's clock, so the same test is
/// exact on the fake clock and tolerant of scheduling on the real one.
/// </summary>
public abstract class CounterStoreContract : IAsyncLifetime
{
    private IHost? host;
    private ICounterStore? store;

    /// <summary>Unique per test, so runs against a shared Redis never see each other's keys.</summary>
    protected string Prefix { get; } = $"test:{Guid.NewGuid():N}:";

    protected ICounterStore Store => store!;

    protected IServiceProvider Services => host!.Services;

    /// <summary>The window or time to live the time-dependent tests use.</summary>
    protected abstract TimeSpan Window { get; }

    protected abstract TimeSpan PollInterval { get; }

    /// <summary>How far the test's clock and the store's may disagree.</summary>
    protected abstract TimeSpan ClockTolerance { get; }

    /// <summary>Time on the store's clock since the test started.</summary>
    protected abstract TimeSpan Elapsed { get; }

    protected abstract ValueTask PauseAsync(TimeSpan duration);

    protected abstract IReadOnlyDictionary<string, string?> Configuration { get; }

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(Configuration);
        ConfigureServices(builder.Services);
        builder.AddPlatformCounters();
        host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        // Resolved up front: the Redis client connects synchronously on first use, which must not happen
        // inside a test's burst of concurrent tasks.
        store = host.Services.GetRequiredService<ICounterStore>();
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
            host.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Increments_accumulate_and_return_the_new_value()
    {
        var key = Prefix + "requests";
        Assert.Equal(0, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));

        Assert.Equal(1, await Store.IncrementAsync(key, 1, Window, TestContext.Current.CancellationToken));
        Assert.Equal(6, await Store.IncrementAsync(key, 5, Window, TestContext.Current.CancellationToken));
        Assert.Equal(4, await Store.IncrementAsync(key, -2, Window, TestContext.Current.CancellationToken));

        Assert.Equal(4, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
        Assert.Equal("4", await Store.GetAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_counter_expires_one_window_after_its_first_increment_and_then_starts_over()
    {
        var key = Prefix + "window";
        var start = Elapsed;
        await Store.IncrementAsync(key, 3, Window, TestContext.Current.CancellationToken);
        Assert.Equal(3, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));

        var gone = await WaitUntilAsync(async () => await Store.GetCountAsync(key, TestContext.Current.CancellationToken) == 0);
        Assert.True(gone - start >= Window - ClockTolerance, $"The counter vanished after {gone - start}, before its window of {Window}.");

        Assert.Equal(1, await Store.IncrementAsync(key, 1, Window, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Later_increments_do_not_extend_the_window()
    {
        var key = Prefix + "fixed";
        await Store.IncrementAsync(key, 1, Window, TestContext.Current.CancellationToken);
        await PauseAsync(Window / 2);
        var secondIncrement = Elapsed;
        Assert.Equal(2, await Store.IncrementAsync(key, 1, Window, TestContext.Current.CancellationToken));

        var gone = await WaitUntilAsync(async () => await Store.GetCountAsync(key, TestContext.Current.CancellationToken) == 0);

        // A window restarted by the second increment would last at least until secondIncrement + Window.
        Assert.True(gone < secondIncrement + Window, $"The counter lived until {gone}: the second increment at {secondIncrement} extended the window.");
    }

    [Fact]
    public async Task Concurrent_increments_from_many_tasks_sum_exactly()
    {
        const int tasks = 16;
        const int incrementsPerTask = 200;
        var key = Prefix + "concurrent";
        var window = TimeSpan.FromMinutes(5);

        var results = await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            var seen = new List<long>(incrementsPerTask);
            for (var i = 0; i < incrementsPerTask; i++)
            {
                seen.Add(await Store.IncrementAsync(key, 1, window, TestContext.Current.CancellationToken));
            }

            return seen;
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(tasks * incrementsPerTask, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
        // Atomic increments hand every caller a different value: exactly 1..N, none lost or repeated.
        Assert.Equal(Enumerable.Range(1, tasks * incrementsPerTask).Select(v => (long)v), results.SelectMany(r => r).Order());
    }

    [Fact]
    public async Task TryAdd_stores_only_once_even_when_contended()
    {
        var key = Prefix + "idempotency";
        var ttl = TimeSpan.FromMinutes(5);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            (Value: $"caller-{i}", Added: await Store.TryAddAsync(key, $"caller-{i}", ttl, TestContext.Current.CancellationToken)),
            TestContext.Current.CancellationToken)));

        var winner = Assert.Single(attempts, attempt => attempt.Added);
        Assert.Equal(winner.Value, await Store.GetAsync(key, TestContext.Current.CancellationToken));
        Assert.False(await Store.TryAddAsync(key, "late", ttl, TestContext.Current.CancellationToken));
        Assert.Equal(winner.Value, await Store.GetAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TryAdd_succeeds_again_once_the_entry_has_expired()
    {
        var key = Prefix + "expiring-claim";
        Assert.True(await Store.TryAddAsync(key, "first", Window, TestContext.Current.CancellationToken));

        await WaitUntilAsync(async () => await Store.GetAsync(key, TestContext.Current.CancellationToken) is null);

        Assert.True(await Store.TryAddAsync(key, "second", TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken));
        Assert.Equal("second", await Store.GetAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Set_replaces_the_value_and_Remove_deletes_it()
    {
        var key = Prefix + "entry";
        var ttl = TimeSpan.FromMinutes(5);
        Assert.Null(await Store.GetAsync(key, TestContext.Current.CancellationToken));

        await Store.SetAsync(key, "one", ttl, TestContext.Current.CancellationToken);
        Assert.Equal("one", await Store.GetAsync(key, TestContext.Current.CancellationToken));
        Assert.False(await Store.TryAddAsync(key, "other", ttl, TestContext.Current.CancellationToken));

        await Store.SetAsync(key, "two", ttl, TestContext.Current.CancellationToken);
        Assert.Equal("two", await Store.GetAsync(key, TestContext.Current.CancellationToken));

        Assert.True(await Store.RemoveAsync(key, TestContext.Current.CancellationToken));
        Assert.Null(await Store.GetAsync(key, TestContext.Current.CancellationToken));
        Assert.False(await Store.RemoveAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Remove_deletes_a_counter()
    {
        var key = Prefix + "removed-counter";
        await Store.IncrementAsync(key, 7, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);

        Assert.True(await Store.RemoveAsync(key, TestContext.Current.CancellationToken));
        Assert.Equal(0, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
        Assert.Equal(1, await Store.IncrementAsync(key, 1, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Expired_entries_read_as_absent()
    {
        var entry = Prefix + "short-entry";
        var counter = Prefix + "short-counter";
        var start = Elapsed;
        await Store.SetAsync(entry, "value", Window, TestContext.Current.CancellationToken);
        await Store.IncrementAsync(counter, 1, Window, TestContext.Current.CancellationToken);

        var gone = await WaitUntilAsync(async () => await Store.GetAsync(entry, TestContext.Current.CancellationToken) is null);
        Assert.True(gone - start >= Window - ClockTolerance, $"The entry vanished after {gone - start}, before its time to live of {Window}.");

        await WaitUntilAsync(async () => await Store.GetCountAsync(counter, TestContext.Current.CancellationToken) == 0);
        Assert.Null(await Store.GetAsync(counter, TestContext.Current.CancellationToken));
        Assert.False(await Store.RemoveAsync(entry, TestContext.Current.CancellationToken));
        Assert.False(await Store.RemoveAsync(counter, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Keys_are_isolated_from_each_other()
    {
        var ttl = TimeSpan.FromMinutes(5);
        await Store.IncrementAsync(Prefix + "a", 5, ttl, TestContext.Current.CancellationToken);
        await Store.SetAsync(Prefix + "value", "kept", ttl, TestContext.Current.CancellationToken);

        Assert.Equal(0, await Store.GetCountAsync(Prefix + "A", TestContext.Current.CancellationToken));
        Assert.Equal(0, await Store.GetCountAsync(Prefix + "ab", TestContext.Current.CancellationToken));
        Assert.Equal(0, await Store.GetCountAsync(Prefix + "a:b", TestContext.Current.CancellationToken));
        Assert.Equal(1, await Store.IncrementAsync(Prefix + "ab", 1, ttl, TestContext.Current.CancellationToken));
        Assert.Equal(5, await Store.GetCountAsync(Prefix + "a", TestContext.Current.CancellationToken));

        Assert.True(await Store.RemoveAsync(Prefix + "ab", TestContext.Current.CancellationToken));
        Assert.Equal(5, await Store.GetCountAsync(Prefix + "a", TestContext.Current.CancellationToken));
        Assert.Equal("kept", await Store.GetAsync(Prefix + "value", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_value_counts_only_when_it_is_an_integer()
    {
        var ttl = TimeSpan.FromMinutes(5);
        await Store.SetAsync(Prefix + "number", "41", ttl, TestContext.Current.CancellationToken);
        Assert.Equal(42, await Store.IncrementAsync(Prefix + "number", 1, ttl, TestContext.Current.CancellationToken));

        await Store.SetAsync(Prefix + "text", "forty-one", ttl, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.IncrementAsync(Prefix + "text", 1, ttl, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.GetCountAsync(Prefix + "text", TestContext.Current.CancellationToken));
        Assert.Equal("forty-one", await Store.GetAsync(Prefix + "text", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Windows_and_lifetimes_must_be_positive()
    {
        var key = Prefix + "invalid";
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.IncrementAsync(key, 1, TimeSpan.Zero, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryAddAsync(key, "v", TimeSpan.FromSeconds(-1), TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.SetAsync(key, "v", TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.Null(await Store.GetAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Reservations_add_up_to_the_limit_and_a_refused_one_changes_nothing()
    {
        var key = Prefix + "reserve";
        var ttl = TimeSpan.FromMinutes(5);

        Assert.Equal(new CounterReservation(true, 40), await Store.TryIncrementWithinAsync(key, 40, 100, ttl, TestContext.Current.CancellationToken));
        Assert.Equal(new CounterReservation(true, 100), await Store.TryIncrementWithinAsync(key, 60, 100, ttl, TestContext.Current.CancellationToken));
        Assert.Equal(new CounterReservation(false, 100), await Store.TryIncrementWithinAsync(key, 1, 100, ttl, TestContext.Current.CancellationToken));
        // A zero amount is a check: allowed while the counter is within the limit.
        Assert.Equal(new CounterReservation(true, 100), await Store.TryIncrementWithinAsync(key, 0, 100, ttl, TestContext.Current.CancellationToken));
        Assert.Equal(new CounterReservation(false, 100), await Store.TryIncrementWithinAsync(key, 0, 99, ttl, TestContext.Current.CancellationToken));

        Assert.Equal(100, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_refused_reservation_does_not_create_the_counter()
    {
        var key = Prefix + "reserve-refused";

        Assert.Equal(new CounterReservation(false, 0), await Store.TryIncrementWithinAsync(key, 11, 10, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken));

        Assert.Null(await Store.GetAsync(key, TestContext.Current.CancellationToken));
        Assert.False(await Store.RemoveAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_negative_increment_releases_a_reservation()
    {
        var key = Prefix + "reserve-release";
        var ttl = TimeSpan.FromMinutes(5);
        Assert.True((await Store.TryIncrementWithinAsync(key, 70, 100, ttl, TestContext.Current.CancellationToken)).Allowed);
        Assert.False((await Store.TryIncrementWithinAsync(key, 70, 100, ttl, TestContext.Current.CancellationToken)).Allowed);

        Assert.Equal(20, await Store.IncrementAsync(key, -50, ttl, TestContext.Current.CancellationToken));

        Assert.Equal(new CounterReservation(true, 90), await Store.TryIncrementWithinAsync(key, 70, 100, ttl, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Concurrent_reservations_never_take_the_counter_past_the_limit()
    {
        const int limit = 100;
        const int amount = 3;
        const int reservations = 200;
        var key = Prefix + "reserve-concurrent";
        var ttl = TimeSpan.FromMinutes(5);

        var results = await Task.WhenAll(Enumerable.Range(0, reservations).Select(_ => Task.Run(
            async () => await Store.TryIncrementWithinAsync(key, amount, limit, ttl, TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken)));

        var allowed = results.Where(result => result.Allowed).ToList();
        Assert.Equal(limit / amount, allowed.Count);
        // Atomic reservations hand every allowed caller a different total: 3, 6, ... 99.
        Assert.Equal(Enumerable.Range(1, limit / amount).Select(v => (long)v * amount), allowed.Select(result => result.Value).Order());
        Assert.All(results.Where(result => !result.Allowed), result => Assert.InRange(result.Value, limit - amount + 1, limit));
        Assert.Equal(limit / amount * amount, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Concurrent_reservations_and_releases_keep_the_counter_within_the_limit()
    {
        const int limit = 10;
        var key = Prefix + "reserve-churn";
        var ttl = TimeSpan.FromMinutes(5);
        var maximumSeen = 0L;

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                var reservation = await Store.TryIncrementWithinAsync(key, 2, limit, ttl, TestContext.Current.CancellationToken);
                if (reservation.Allowed)
                {
                    InterlockedMax(ref maximumSeen, reservation.Value);
                    await Store.IncrementAsync(key, -2, ttl, TestContext.Current.CancellationToken);
                }
            }
        }, TestContext.Current.CancellationToken)));

        Assert.InRange(maximumSeen, 2, limit);
        Assert.Equal(0, await Store.GetCountAsync(key, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_reserved_counter_expires_one_window_after_it_was_created()
    {
        var key = Prefix + "reserve-window";
        var start = Elapsed;
        Assert.True((await Store.TryIncrementWithinAsync(key, 10, 10, Window, TestContext.Current.CancellationToken)).Allowed);
        await PauseAsync(Window / 2);
        // A later reservation in the same window does not extend it.
        Assert.False((await Store.TryIncrementWithinAsync(key, 1, 10, Window, TestContext.Current.CancellationToken)).Allowed);
        Assert.Equal(new CounterReservation(true, 10), await Store.TryIncrementWithinAsync(key, 0, 10, Window, TestContext.Current.CancellationToken));

        var gone = await WaitUntilAsync(async () => await Store.GetCountAsync(key, TestContext.Current.CancellationToken) == 0);
        Assert.True(gone - start >= Window - ClockTolerance, $"The counter vanished after {gone - start}, before its window of {Window}.");
        Assert.True(gone - start < Window + (Window / 2), $"The counter lived {gone - start}: a later reservation extended its window of {Window}.");

        Assert.Equal(new CounterReservation(true, 4), await Store.TryIncrementWithinAsync(key, 4, 10, Window, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Reservations_count_only_integers_and_validate_their_arguments()
    {
        var ttl = TimeSpan.FromMinutes(5);
        await Store.SetAsync(Prefix + "reserve-number", "5", ttl, TestContext.Current.CancellationToken);
        Assert.Equal(new CounterReservation(true, 8), await Store.TryIncrementWithinAsync(Prefix + "reserve-number", 3, 10, ttl, TestContext.Current.CancellationToken));

        await Store.SetAsync(Prefix + "reserve-text", "five", ttl, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.TryIncrementWithinAsync(Prefix + "reserve-text", 1, 10, ttl, TestContext.Current.CancellationToken));
        await Store.TryTakeAsync(Prefix + "reserve-bucket", 5, 0.001, 1, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.TryIncrementWithinAsync(Prefix + "reserve-bucket", 1, 10, ttl, TestContext.Current.CancellationToken));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryIncrementWithinAsync(Prefix + "reserve-invalid", -1, 10, ttl, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryIncrementWithinAsync(Prefix + "reserve-invalid", 1, 10, TimeSpan.Zero, TestContext.Current.CancellationToken));
        Assert.Null(await Store.GetAsync(Prefix + "reserve-invalid", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_new_bucket_is_full_allows_its_capacity_and_then_denies()
    {
        var key = Prefix + "bucket-new";
        const double slowRefill = 0.001;

        for (var expectedRemaining = 2; expectedRemaining >= 0; expectedRemaining--)
        {
            var take = await Store.TryTakeAsync(key, 3, slowRefill, 1, TestContext.Current.CancellationToken);
            Assert.Equal(new TokenBucketResult(true, expectedRemaining, TimeSpan.Zero), take);
        }

        var denied = await Store.TryTakeAsync(key, 3, slowRefill, 1, TestContext.Current.CancellationToken);
        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        // One token at 0.001 per second takes 1000 s, less whatever trickled in since the first take.
        Assert.InRange(denied.RetryAfter, TimeSpan.FromSeconds(990), TimeSpan.FromSeconds(1000) + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_denied_take_takes_nothing_and_costs_take_several_tokens()
    {
        var key = Prefix + "bucket-cost";
        const double slowRefill = 0.001;

        Assert.Equal(2, (await Store.TryTakeAsync(key, 5, slowRefill, 3, TestContext.Current.CancellationToken)).Remaining);

        var denied = await Store.TryTakeAsync(key, 5, slowRefill, 3, TestContext.Current.CancellationToken);
        Assert.False(denied.Allowed);
        Assert.Equal(2, denied.Remaining);

        var rest = await Store.TryTakeAsync(key, 5, slowRefill, 2, TestContext.Current.CancellationToken);
        Assert.True(rest.Allowed);
        Assert.Equal(0, rest.Remaining);
    }

    [Fact]
    public async Task Tokens_come_back_at_the_refill_rate()
    {
        var key = Prefix + "bucket-refill";
        var oneTokenPerWindow = 1 / Window.TotalSeconds;
        await Store.TryTakeAsync(key, 2, oneTokenPerWindow, 2, TestContext.Current.CancellationToken);

        var deniedAt = Elapsed;
        var denied = await Store.TryTakeAsync(key, 2, oneTokenPerWindow, 1, TestContext.Current.CancellationToken);
        Assert.False(denied.Allowed);
        Assert.InRange(denied.RetryAfter, TimeSpan.FromTicks(1), Window + ClockTolerance + TimeSpan.FromMilliseconds(1));

        // Denied polls take nothing, so the first allowed one is the first token that came back.
        var allowedAt = await WaitUntilAsync(async () => (await Store.TryTakeAsync(key, 2, oneTokenPerWindow, 1, TestContext.Current.CancellationToken)).Allowed);
        Assert.True(allowedAt - deniedAt >= denied.RetryAfter - ClockTolerance, $"A token came back after {allowedAt - deniedAt}, before the promised {denied.RetryAfter}.");
        Assert.True(allowedAt - deniedAt < denied.RetryAfter + (Window * 5), $"A token came back only after {allowedAt - deniedAt}; promised {denied.RetryAfter}.");
    }

    [Fact]
    public async Task A_bucket_never_holds_more_than_its_capacity()
    {
        var key = Prefix + "bucket-cap";
        var fullInOneWindow = 3 / Window.TotalSeconds;
        await Store.TryTakeAsync(key, 3, fullInOneWindow, 1, TestContext.Current.CancellationToken);

        await PauseAsync(Window * 5);

        var all = await Store.TryTakeAsync(key, 3, fullInOneWindow, 3, TestContext.Current.CancellationToken);
        Assert.True(all.Allowed);
        Assert.Equal(0, all.Remaining);
        Assert.False((await Store.TryTakeAsync(key, 3, fullInOneWindow, 1, TestContext.Current.CancellationToken)).Allowed);
    }

    [Fact]
    public async Task Concurrent_takes_allow_exactly_the_capacity()
    {
        const int capacity = 50;
        const int takes = 200;
        var key = Prefix + "bucket-concurrent";

        var results = await Task.WhenAll(Enumerable.Range(0, takes).Select(_ => Task.Run(
            async () => await Store.TryTakeAsync(key, capacity, 0.0001, 1, TestContext.Current.CancellationToken),
            TestContext.Current.CancellationToken)));

        var allowed = results.Where(result => result.Allowed).ToList();
        Assert.Equal(capacity, allowed.Count);
        // Atomic takes hand every allowed caller a different remainder: exactly capacity-1 down to 0.
        Assert.Equal(Enumerable.Range(0, capacity).Select(v => (long)v), allowed.Select(result => result.Remaining).Order());
    }

    [Fact]
    public async Task Buckets_are_isolated_by_key()
    {
        Assert.True((await Store.TryTakeAsync(Prefix + "bucket-a", 1, 0.001, 1, TestContext.Current.CancellationToken)).Allowed);
        Assert.False((await Store.TryTakeAsync(Prefix + "bucket-a", 1, 0.001, 1, TestContext.Current.CancellationToken)).Allowed);
        Assert.True((await Store.TryTakeAsync(Prefix + "bucket-b", 1, 0.001, 1, TestContext.Current.CancellationToken)).Allowed);
        Assert.True((await Store.TryTakeAsync(Prefix + "bucket-A", 1, 0.001, 1, TestContext.Current.CancellationToken)).Allowed);
    }

    [Fact]
    public async Task A_bucket_key_holds_only_the_bucket()
    {
        var ttl = TimeSpan.FromMinutes(5);
        await Store.SetAsync(Prefix + "plain", "value", ttl, TestContext.Current.CancellationToken);
        await Store.IncrementAsync(Prefix + "counted", 1, ttl, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.TryTakeAsync(Prefix + "plain", 5, 1, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.TryTakeAsync(Prefix + "counted", 5, 1, 1, TestContext.Current.CancellationToken));

        var bucket = Prefix + "only-bucket";
        await Store.TryTakeAsync(bucket, 5, 0.001, 1, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.GetAsync(bucket, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.GetCountAsync(bucket, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.IncrementAsync(bucket, 1, ttl, TestContext.Current.CancellationToken));

        Assert.True(await Store.RemoveAsync(bucket, TestContext.Current.CancellationToken));
        Assert.Equal(4, (await Store.TryTakeAsync(bucket, 5, 0.001, 1, TestContext.Current.CancellationToken)).Remaining);
    }

    [Fact]
    public async Task Bucket_arguments_must_describe_a_take_that_can_succeed()
    {
        var key = Prefix + "bucket-invalid";
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 0, 1, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 5, 0, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 5, double.NaN, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 5, double.PositiveInfinity, 1, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 5, 1, 0, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.TryTakeAsync(key, 5, 1, 6, TestContext.Current.CancellationToken));
        Assert.Equal(4, (await Store.TryTakeAsync(key, 5, 1, 1, TestContext.Current.CancellationToken)).Remaining);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds and returns when it first did (on <see cref="Elapsed"/>).</summary>
    private async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Elapsed + (Window * 20);
        while (!await condition())
        {
            Assert.True(Elapsed < deadline, $"The condition did not hold within {Window * 20}.");
            await PauseAsync(PollInterval);
        }

        return Elapsed;
    }
}

public sealed class InMemoryCounterStoreTests : CounterStoreContract
{
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly DateTimeOffset start;

    public InMemoryCounterStoreTests() => start = clock.GetUtcNow();

    protected override TimeSpan Window => TimeSpan.FromSeconds(10);

    protected override TimeSpan PollInterval => TimeSpan.FromMilliseconds(10);

    protected override TimeSpan ClockTolerance => TimeSpan.Zero;

    protected override TimeSpan Elapsed => clock.GetUtcNow() - start;

    protected override IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(clock);

    protected override ValueTask PauseAsync(TimeSpan duration)
    {
        clock.Advance(duration);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public void Without_a_redis_connection_string_counters_stay_in_process()
    {
        Assert.IsType<InMemoryCounterStore>(Store);
    }

    [Fact]
    public async Task Expired_entries_are_swept_so_memory_does_not_grow()
    {
        var store = Assert.IsType<InMemoryCounterStore>(Store);
        for (var i = 0; i < 100; i++)
        {
            await store.IncrementAsync($"{Prefix}burst-{i}", 1, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }

        await store.SetAsync(Prefix + "long-lived", "kept", TimeSpan.FromHours(1), TestContext.Current.CancellationToken);
        Assert.Equal(101, store.Count);

        clock.Advance(InMemoryCounterStore.SweepInterval);

        Assert.Equal(1, store.Count);
        Assert.Equal("kept", await store.GetAsync(Prefix + "long-lived", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_bucket_is_swept_once_it_is_full_again()
    {
        var store = Assert.IsType<InMemoryCounterStore>(Store);
        await store.TryTakeAsync(Prefix + "refilled", 10, 1, 10, TestContext.Current.CancellationToken);
        await store.TryTakeAsync(Prefix + "draining", 10, 0.001, 10, TestContext.Current.CancellationToken);
        Assert.Equal(2, store.Count);

        // Ten tokens at one per second: full after 10 s, well before the sweep.
        clock.Advance(InMemoryCounterStore.SweepInterval);

        Assert.Equal(1, store.Count);
    }
}

[Trait("Category", "Infrastructure")]
public sealed class RedisCounterStoreTests : CounterStoreContract
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    // Long enough that a loaded CI machine (the whole suite in parallel on 2 cores) does not eat the half window
    // between two round trips; short enough to keep the expiry tests quick.
    protected override TimeSpan Window => TimeSpan.FromMilliseconds(1500);

    protected override TimeSpan PollInterval => TimeSpan.FromMilliseconds(10);

    protected override TimeSpan ClockTolerance => TimeSpan.FromMilliseconds(10);

    protected override TimeSpan Elapsed => clock.Elapsed;

    protected override IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        [$"ConnectionStrings:{ResourceNames.Redis}"] = TestInfrastructure.Redis,
    };

    protected override ValueTask PauseAsync(TimeSpan duration) => new(Task.Delay(duration, TestContext.Current.CancellationToken));

    [Fact]
    public void With_a_redis_connection_string_counters_live_in_redis()
    {
        Assert.IsType<RedisCounterStore>(Store);
    }

    [Fact]
    public async Task A_bucket_key_expires_when_the_bucket_is_full_again()
    {
        var key = Prefix + "bucket-expiry";
        var fullInOneWindow = 2 / Window.TotalSeconds;
        await Store.TryTakeAsync(key, 2, fullInOneWindow, 1, TestContext.Current.CancellationToken);
        var redis = Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();

        var timeToLive = await redis.KeyTimeToLiveAsync(RedisCounterStore.KeyPrefix + key);
        Assert.NotNull(timeToLive);
        Assert.InRange(timeToLive.Value, TimeSpan.FromTicks(1), Window / 2);

        await PauseAsync(Window);
        Assert.False(await redis.KeyExistsAsync(RedisCounterStore.KeyPrefix + key));
    }

    [Fact]
    public async Task Keys_carry_the_platform_prefix()
    {
        await Store.SetAsync(Prefix + "prefixed", "v", TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        var redis = Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        Assert.Equal("v", (string?)await redis.StringGetAsync(RedisCounterStore.KeyPrefix + Prefix + "prefixed"));
    }
}
