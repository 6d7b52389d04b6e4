using System.ComponentModel.DataAnnotations;
using AgentPlatform.Domain.Identity;

namespace AgentPlatform.ServiceDefaults.Authentication;

/// <summary>How services validate the platform's access tokens (section <c>Authentication</c>).</summary>
public sealed class PlatformAuthenticationOptions
{
    public const string SectionName = "Authentication";

    /// <summary>
    /// The token issuer: the platform's public (gateway) URL, e.g. <c>http://localhost:8080</c>. Tokens carry
    /// it as <c>iss</c> and the discovery document publishes it, so clients outside the cluster can use it.
    /// </summary>
    [Required]
    public string Issuer { get; set; } = "http://localhost:8080";

    public string Audience { get; set; } = PlatformClaims.Audience;

    /// <summary>Where services fetch the signing keys: the control plane's JWKS, through service discovery.</summary>
    [Required]
    public Uri JwksUri { get; set; } = new("http://controlplane/.well-known/jwks.json");

    /// <summary>Tolerated clock difference between issuer and validator.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The shortest time between two JWKS fetches triggered by an unknown <c>kid</c>, so a flood of forged
    /// tokens cannot turn into a flood of fetches.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a fetched JWKS is used before it is fetched again regardless.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan JwksAutomaticRefreshInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a token that passed validation is accepted again without checking its signature (never past its
    /// expiry, and only while its signing key is still published). Zero validates every request in full.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ValidatedTokenCacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many validated tokens are remembered at most.</summary>
    [Range(0, 1_000_000)]
    public int ValidatedTokenCacheSize { get; set; } = 10_000;
}
