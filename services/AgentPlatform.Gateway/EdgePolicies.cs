namespace AgentPlatform.Gateway;

/// <summary>
/// The names routes in the <c>ReverseProxy</c> configuration refer to: authorization and rate limiter policies,
/// and route metadata the gateway reads.
/// </summary>
public static class EdgePolicies
{
    /// <summary>Authorization policy: an authenticated caller (a platform access token, or an API key exchanged for one).</summary>
    public const string Authenticated = "authenticated";

    /// <summary>YARP's own authorization policy name for routes that need no credential.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>Rate limiter policy: a tenant's bucket and its client's bucket (user or API key); both must allow.</summary>
    public const string PerCaller = "per-caller";

    /// <summary>Rate limiter policy: one bucket per client address, for endpoints that take credentials (brute force).</summary>
    public const string PerClientAddress = "per-client-address";

    /// <summary>Route metadata key choosing the error body shape; absent means RFC 9457 problem details.</summary>
    public const string ErrorFormatMetadata = "ErrorFormat";

    /// <summary>Value of <see cref="ErrorFormatMetadata"/>: errors shaped like OpenAI's, which OpenAI SDK clients parse.</summary>
    public const string OpenAiErrorFormat = "openai";
}
