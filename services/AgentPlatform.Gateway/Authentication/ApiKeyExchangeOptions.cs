using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Gateway.Authentication;

/// <summary>How the gateway turns API keys into access tokens (section <c>Gateway:ApiKeys</c>).</summary>
public sealed class ApiKeyExchangeOptions
{
    public const string SectionName = "Gateway:ApiKeys";

    /// <summary>The control plane's token endpoint (RFC 8693 token exchange), through service discovery.</summary>
    [Required]
    public Uri TokenEndpoint { get; set; } = new("http://controlplane/auth/token");

    /// <summary>The longest an exchanged token is reused: also how long a revoked key may keep working here.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan MaxCacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>An exchanged token is reused only until this long before it expires, so backends never see it expire.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ExpiryMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a rejected key is answered from memory, so hammering with it does not reach the control plane.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RejectionCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most this many keys (accepted or rejected) are remembered; beyond it, results are not cached.</summary>
    [Range(1, 10_000_000)]
    public int MaxCachedKeys { get; set; } = 100_000;

    /// <summary>
    /// How long a request waits for an exchange before it is answered 503. The exchange itself carries on with
    /// the standard resilience of every HTTP client (retries, circuit breaker), and later requests with the same
    /// key join it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
