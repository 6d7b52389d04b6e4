using AgentPlatform.Domain.Counters;

namespace AgentPlatform.Testing;

/// <summary>A counters store whose server cannot be reached: every operation fails, as the Redis client's would.</summary>
public sealed class UnreachableCounterStore : ICounterStore
{
    public ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default) => Fail<long>();

    public ValueTask<CounterReservation> TryIncrementWithinAsync(string key, long amount, long limit, TimeSpan window, CancellationToken cancellationToken = default) =>
        Fail<CounterReservation>();

    public ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default) => Fail<long>();

    public ValueTask<bool> TryAddAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default) => Fail<bool>();

    public ValueTask SetAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default) =>
        ValueTask.FromException(Unreachable());

    public ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default) => Fail<string?>();

    public ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) => Fail<bool>();

    public ValueTask<TokenBucketResult> TryTakeAsync(string key, int capacity, double refillPerSecond, int cost, CancellationToken cancellationToken = default) =>
        Fail<TokenBucketResult>();

    private static ValueTask<T> Fail<T>() => ValueTask.FromException<T>(Unreachable());

    private static TimeoutException Unreachable() => new("The counters store cannot be reached.");
}
