using System.Diagnostics.Metrics;
using AgentPlatform.ServiceDefaults;

namespace AgentPlatform.Gateway;

/// <summary>The gateway's own metrics (meter <c>AgentPlatform.Gateway</c>).</summary>
public sealed class EdgeTelemetry
{
    public const string MeterName = Extensions.TelemetryPrefix + "Gateway";

    /// <summary>
    /// Counter of API key look-ups, tagged <c>result</c>: per request <c>cached</c>, <c>shared</c> (joined an
    /// exchange in flight) or <c>timed_out</c>; per exchange with the control plane <c>exchanged</c>,
    /// <c>rejected</c> or <c>failed</c>.
    /// </summary>
    public const string ApiKeyLookups = "agentplatform.gateway.api_key.lookups";

    /// <summary>Counter of requests that passed without a rate limit check because the counters store failed.</summary>
    public const string RateLimitFailOpen = "agentplatform.gateway.rate_limit.fail_open";

    public const string ApiKeyResultCached = "cached";
    public const string ApiKeyResultShared = "shared";
    public const string ApiKeyResultExchanged = "exchanged";
    public const string ApiKeyResultRejected = "rejected";
    public const string ApiKeyResultFailed = "failed";
    public const string ApiKeyResultTimedOut = "timed_out";

    private readonly Counter<long> apiKeyLookups;
    private readonly Counter<long> rateLimitFailOpen;

    public EdgeTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        apiKeyLookups = meter.CreateCounter<long>(ApiKeyLookups, "{lookup}", "API keys presented as bearer credentials, by how they were resolved.");
        rateLimitFailOpen = meter.CreateCounter<long>(RateLimitFailOpen, "{request}", "Requests that passed without a rate limit check because the counters store was unavailable.");
    }

    public void ApiKeyLookedUp(string result) => apiKeyLookups.Add(1, new KeyValuePair<string, object?>("result", result));

    public void RateLimitFailedOpen() => rateLimitFailOpen.Add(1);
}
