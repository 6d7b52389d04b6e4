using AgentPlatform.Domain.Counters;
using StackExchange.Redis;

namespace AgentPlatform.Infrastructure.Counters;

/// <summary>
/// The distributed topology's <see cref="ICounterStore"/>: every instance of every service shares the counters
/// in Redis. Each operation is one Redis command or script, so it is atomic on the server.
/// </summary>
public sealed class RedisCounterStore(IConnectionMultiplexer connection) : ICounterStore
{
    /// <summary>Prefix of every key, so the platform's keys are recognisable in a shared Redis.</summary>
    public const string KeyPrefix = "ap:";

    // The expiry is set only when the increment created the key (it has no TTL yet), which makes the window
    // fixed. PTTL instead of "PEXPIRE NX" keeps it working on Redis before 7.0.
    private const string IncrementScript = """
        local value = redis.call('INCRBY', KEYS[1], ARGV[1])
        if redis.call('PTTL', KEYS[1]) == -1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return value
        """;

    public async ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        try
        {
            var result = await Database.ScriptEvaluateAsync(IncrementScript, [Key(key)], [delta, Milliseconds(window)]);
            return (long)result;
        }
        catch (RedisServerException exception) when (exception.Message.Contains("not an integer", StringComparison.Ordinal))
        {
            throw InMemoryCounterStore.NotACounter(key);
        }
    }

    public async ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default)
    {
        var value = await Database.StringGetAsync(Key(key));
        return value.IsNull ? 0
            : value.TryParse(out long count) ? count
            : throw InMemoryCounterStore.NotACounter(key);
    }

    public async ValueTask<bool> TryAddAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        return await Database.StringSetAsync(Key(key), value, timeToLive, When.NotExists);
    }

    public async ValueTask SetAsync(string key, string value, TimeSpan timeToLive, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        await Database.StringSetAsync(Key(key), value, timeToLive);
    }

    public async ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        await Database.StringGetAsync(Key(key));

    public async ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        await Database.KeyDeleteAsync(Key(key));

    private IDatabase Database => connection.GetDatabase();

    private static RedisKey Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return KeyPrefix + key;
    }

    // Redis counts in whole milliseconds; rounding up never makes a window shorter than asked.
    private static long Milliseconds(TimeSpan duration) => (long)Math.Ceiling(duration.TotalMilliseconds);
}
