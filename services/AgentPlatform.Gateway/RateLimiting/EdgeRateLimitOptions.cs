using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Gateway.RateLimiting;

/// <summary>The gateway's token buckets (section <c>Gateway:RateLimits</c>).</summary>
public sealed class EdgeRateLimitOptions
{
    public const string SectionName = "Gateway:RateLimits";

    /// <summary>One bucket per tenant, shared by all its users and API keys.</summary>
    public TokenBucketSettings Tenant { get; set; } = new() { Capacity = 1000, RefillPerSecond = 200 };

    /// <summary>One bucket per client of a tenant: a user (<c>sub</c>) or an API key (<c>api_key_id</c>).</summary>
    public TokenBucketSettings Client { get; set; } = new() { Capacity = 200, RefillPerSecond = 50 };

    /// <summary>
    /// One bucket per client address (IPv6: per /64) on endpoints that take credentials. Generous enough for
    /// a company's users behind one NAT refreshing tokens; per-account lockout in the control plane is the
    /// defence against guessing one account's password.
    /// </summary>
    public TokenBucketSettings ClientAddress { get; set; } = new() { Capacity = 60, RefillPerSecond = 1 };

    /// <summary>How long a check may wait for the counters store before the request passes unchecked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After the store failed, how long requests pass unchecked before it is asked again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan FailOpenDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A token bucket: a burst of <see cref="Capacity"/> requests, then <see cref="RefillPerSecond"/> sustained.</summary>
public sealed class TokenBucketSettings
{
    public int Capacity { get; set; }

    public double RefillPerSecond { get; set; }

    public bool IsValid => Capacity >= 1 && double.IsFinite(RefillPerSecond) && RefillPerSecond > 0;
}
