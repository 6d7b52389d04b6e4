namespace AgentPlatform.Gateway;

/// <summary>How the gateway treats what clients claim about themselves (section <c>Gateway</c>).</summary>
public sealed class EdgeOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Addresses or CIDR networks of proxies in front of the gateway (a load balancer, an ingress controller)
    /// whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Empty (the default): the client is
    /// whoever opened the connection, and every such header from outside is replaced before forwarding.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Whether a caller's W3C <c>traceparent</c> continues into the platform's trace. False (the default): every
    /// request starts a new trace at the edge that links to the caller's context, and caller <c>tracestate</c>
    /// and <c>baggage</c> are dropped. True only behind a trusted edge that starts traces itself.
    /// </summary>
    public bool TrustIncomingTraceContext { get; set; }
}
