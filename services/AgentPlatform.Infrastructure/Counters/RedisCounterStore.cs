using System.Globalization;
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

    // The check and the add are one script, so no other client can add between them. The comparison is made
    // without adding (Lua numbers are doubles), and INCRBY does the exact integer arithmetic and rejects values
    // that are not integers. A refused reservation writes nothing.
    private const string IncrementWithinScript = """
        local amount = tonumber(ARGV[1])
        local limit = tonumber(ARGV[2])
        local current = redis.call('GET', KEYS[1])
        if current then
            local number = tonumber(current)
            if not number or number ~= math.floor(number) then
                return redis.error_reply('ERR value is not an integer or out of range')
            end
            if number > limit - amount then
                return { 0, current }
            end
        elseif amount > limit then
            return { 0, '0' }
        end
        local value = redis.call('INCRBY', KEYS[1], ARGV[1])
        if redis.call('PTTL', KEYS[1]) == -1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        return { 1, value }
        """;

    // A bucket is a hash {tokens, at (server time in microseconds)}. The server's clock (TIME) is the only clock,
    // so instances with skewed clocks still agree. replicate_commands lets Redis 3.2-4.x accept a write after
    // TIME (later versions always replicate effects and ignore the call). The key expires exactly when the
    // bucket is full again, because then an absent key means the same thing. Numbers go back as strings:
    // Redis would truncate a Lua float to an integer reply.
    private const string TakeScript = """
        if redis.replicate_commands then redis.replicate_commands() end
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tokens = capacity
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        if state[1] then
            local at = tonumber(state[2])
            tokens = tonumber(state[1])
            if now > at then
                tokens = tokens + (now - at) * rate / 1000000
            else
                now = at
            end
            tokens = math.min(capacity, tokens)
        end
        local allowed = 0
        local retry = 0
        if tokens >= cost then
            tokens = tokens - cost
            allowed = 1
        else
            retry = math.ceil((cost - tokens) * 1000000 / rate)
        end
        local untilFull = math.ceil((capacity - tokens) * 1000 / rate)
        if untilFull > 0 then
            redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
            redis.call('PEXPIRE', KEYS[1], untilFull)
        else
            redis.call('DEL', KEYS[1])
        end
        return { allowed, string.format('%.17g', tokens), retry }
        """;

    public async ValueTask<long> IncrementAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        try
        {
            var result = await Database.ScriptEvaluateAsync(IncrementScript, [Key(key)], [delta, Milliseconds(window)]);
            return (long)result;
        }
        catch (RedisServerException exception) when (exception.Message.Contains("not an integer", StringComparison.Ordinal) || IsWrongType(exception))
        {
            throw InMemoryCounterStore.NotACounter(key);
        }
    }

    public async ValueTask<CounterReservation> TryIncrementWithinAsync(string key, long amount, long limit, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await Database.ScriptEvaluateAsync(IncrementWithinScript, [Key(key)], [amount, limit, Milliseconds(window)]))!;
        }
        catch (RedisServerException exception) when (exception.Message.Contains("not an integer", StringComparison.Ordinal) || IsWrongType(exception))
        {
            throw InMemoryCounterStore.NotACounter(key);
        }

        return new CounterReservation((long)result[0] == 1, (long)result[1]);
    }

    public async ValueTask<long> GetCountAsync(string key, CancellationToken cancellationToken = default)
    {
        RedisValue value;
        try
        {
            value = await Database.StringGetAsync(Key(key));
        }
        catch (RedisServerException exception) when (IsWrongType(exception))
        {
            throw InMemoryCounterStore.NotACounter(key);
        }

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

    public async ValueTask<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        try
        {
            return await Database.StringGetAsync(Key(key));
        }
        catch (RedisServerException exception) when (IsWrongType(exception))
        {
            throw InMemoryCounterStore.WrongKind(key);
        }
    }

    public async ValueTask<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        await Database.KeyDeleteAsync(Key(key));

    public async ValueTask<TokenBucketResult> TryTakeAsync(string key, int capacity, double refillPerSecond, int cost, CancellationToken cancellationToken = default)
    {
        var redisKey = Key(key);
        TokenBucketResult.ValidateArguments(capacity, refillPerSecond, cost);
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await Database.ScriptEvaluateAsync(TakeScript, [redisKey], [capacity, refillPerSecond, cost]))!;
        }
        catch (RedisServerException exception) when (IsWrongType(exception))
        {
            throw InMemoryCounterStore.NotABucket(key);
        }

        var tokens = double.Parse((string)result[1]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        var retryAfterMicroseconds = (long)result[2];
        return new TokenBucketResult((long)result[0] == 1, (long)Math.Floor(tokens), TimeSpan.FromTicks(retryAfterMicroseconds * TimeSpan.TicksPerMicrosecond));
    }

    private IDatabase Database => connection.GetDatabase();

    private static RedisKey Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return KeyPrefix + key;
    }

    private static bool IsWrongType(RedisServerException exception) =>
        exception.Message.Contains("WRONGTYPE", StringComparison.Ordinal);

    // Redis counts in whole milliseconds; rounding up never makes a window shorter than asked.
    private static long Milliseconds(TimeSpan duration) => (long)Math.Ceiling(duration.TotalMilliseconds);
}
