using System.Diagnostics;
using System.Threading.RateLimiting;

namespace AgentPlatform.Gateway.RateLimiting;

/// <summary>One token bucket a request must pass: its store key, its settings and what it limits (for the answer).</summary>
public sealed record RateLimitBucket(string Key, Func<EdgeRateLimitOptions, TokenBucketSettings> Settings, string Scope);

/// <summary>
/// A <see cref="RateLimiter"/> over token buckets on the counters port, shared by every gateway instance. A
/// request passes when every bucket allows it, asked in order; a denial stops there, so the buckets after it
/// (put the broader ones last) lose nothing to requests that were refused anyway. Acquiring is asynchronous
/// only: the synchronous attempt the rate limiting middleware makes first always declines, and the middleware
/// then waits on <see cref="RateLimiter.AcquireAsync"/>.
/// </summary>
public sealed class CounterStoreRateLimiter(RateLimitBuckets buckets, IReadOnlyList<RateLimitBucket> chain) : RateLimiter
{
    private long lastUsed = Stopwatch.GetTimestamp();

    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Volatile.Read(ref lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        permitCount == 0 ? BucketLease.Acquired : BucketLease.NotAttempted;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Volatile.Write(ref lastUsed, Stopwatch.GetTimestamp());
        if (permitCount == 0)
        {
            return BucketLease.Acquired;
        }

        var settings = buckets.Settings;
        foreach (var bucket in chain)
        {
            var result = await buckets.TryTakeAsync(bucket.Key, bucket.Settings(settings), permitCount, cancellationToken);
            if (result is null)
            {
                buckets.PassedUnchecked();
                return BucketLease.Acquired;
            }

            if (!result.Value.Allowed)
            {
                return new BucketLease(false, result.Value.RetryAfter, bucket.Scope);
            }
        }

        return BucketLease.Acquired;
    }

    private sealed class BucketLease(bool acquired, TimeSpan? retryAfter, string? scope) : RateLimitLease
    {
        public static readonly BucketLease Acquired = new(true, null, null);

        public static readonly BucketLease NotAttempted = new(false, null, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames
        {
            get
            {
                if (retryAfter is not null)
                {
                    yield return MetadataName.RetryAfter.Name;
                }

                if (scope is not null)
                {
                    yield return MetadataName.ReasonPhrase.Name;
                }
            }
        }

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter
                : metadataName == MetadataName.ReasonPhrase.Name ? scope
                : null;
            return metadata is not null;
        }
    }
}
