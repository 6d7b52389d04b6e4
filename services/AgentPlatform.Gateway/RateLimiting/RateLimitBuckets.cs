using AgentPlatform.Domain.Counters;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Gateway.RateLimiting;

/// <summary>
/// The gateway's access to token buckets on the counters port, failing open: when the store (Redis) is slow or
/// unreachable, requests pass unchecked for <see cref="EdgeRateLimitOptions.FailOpenDuration"/>, with a logged
/// warning and the <see cref="EdgeTelemetry.RateLimitFailOpen"/> metric. Rate limits protect capacity, not
/// access: authentication still applies to every request, backends keep their own budgets, and failing closed
/// would turn a cache outage into an outage of the whole public API.
/// </summary>
public sealed partial class RateLimitBuckets(
    ICounterStore store,
    IOptionsMonitor<EdgeRateLimitOptions> options,
    TimeProvider timeProvider,
    EdgeTelemetry telemetry,
    ILogger<RateLimitBuckets> logger)
{
    private const string KeyPrefix = "gateway:rate:";

    private long uncheckedUntil;

    public EdgeRateLimitOptions Settings => options.CurrentValue;

    /// <summary>Records a request that passed without its buckets being checked.</summary>
    public void PassedUnchecked() => telemetry.RateLimitFailedOpen();

    /// <summary>
    /// Takes <paramref name="cost"/> tokens from the bucket <paramref name="key"/>; null when the store could not
    /// be asked (the request passes).
    /// </summary>
    public async ValueTask<TokenBucketResult?> TryTakeAsync(string key, TokenBucketSettings bucket, int cost, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        if (now < Volatile.Read(ref uncheckedUntil))
        {
            return null;
        }

        var settings = options.CurrentValue;
        try
        {
            return await store.TryTakeAsync(KeyPrefix + key, bucket.Capacity, bucket.RefillPerSecond, cost, cancellationToken)
                .AsTask()
                .WaitAsync(settings.StoreTimeout, timeProvider, cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Volatile.Write(ref uncheckedUntil, now + settings.FailOpenDuration.Ticks);
            LogFailingOpen(logger, exception, settings.FailOpenDuration);
            return null;
        }
    }

    [LoggerMessage(LogLevel.Warning, "The counters store failed a rate limit check; requests pass unchecked for {Duration}.")]
    private static partial void LogFailingOpen(ILogger logger, Exception exception, TimeSpan duration);
}
