using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentPlatform.Domain.Telemetry;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// Model calls as OpenTelemetry metrics. Tags stay bounded: tenant, model (the served model when there was one,
/// else the requested alias, which routing has already resolved) and outcome; never users, keys or tasks, which
/// the usage records carry instead.
/// </summary>
public sealed class ModelGatewayMetrics
{
    public const string MeterName = "AgentPlatform.ModelGateway.Governance";

    public const string Requests = "agentplatform.model.requests";
    public const string Tokens = "agentplatform.model.tokens";
    public const string Cost = "agentplatform.model.cost";
    public const string Duration = "agentplatform.model.duration";
    public const string BudgetFailClosed = "agentplatform.model.budget.fail_closed";
    public const string RateLimitFailOpen = "agentplatform.model.rate_limit.fail_open";

    public const string ModelTag = "model";
    public const string OutcomeTag = "outcome";
    public const string TokenTypeTag = "type";

    private readonly Counter<long> requests;
    private readonly Counter<long> tokens;
    private readonly Counter<long> cost;
    private readonly Histogram<double> duration;
    private readonly Counter<long> budgetFailClosed;
    private readonly Counter<long> rateLimitFailOpen;

    public ModelGatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        requests = meter.CreateCounter<long>(Requests, "{call}", "Model calls by outcome, refused ones included.");
        tokens = meter.CreateCounter<long>(Tokens, "{token}", "Tokens of model calls (type: input, output, cached).");
        cost = meter.CreateCounter<long>(Cost, "{micro-unit}", "Cost of model calls in micro-units of the platform currency.");
        duration = meter.CreateHistogram<double>(
            Duration,
            "s",
            "Latency of model calls.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160] });
        budgetFailClosed = meter.CreateCounter<long>(BudgetFailClosed, "{call}", "Calls refused because budgets could not be checked.");
        rateLimitFailOpen = meter.CreateCounter<long>(RateLimitFailOpen, "{call}", "Calls admitted without a rate limit check because the counters store failed.");
    }

    public void Recorded(string tenantId, string model, string outcome, long inputTokens, long outputTokens, long cachedInputTokens, long costMicros, TimeSpan latency)
    {
        var tags = new TagList { { PlatformTags.TenantId, tenantId }, { ModelTag, model }, { OutcomeTag, outcome } };
        requests.Add(1, tags);
        duration.Record(latency.TotalSeconds, tags);
        AddTokens(tenantId, model, "input", inputTokens);
        AddTokens(tenantId, model, "output", outputTokens);
        AddTokens(tenantId, model, "cached", cachedInputTokens);
        if (costMicros > 0)
        {
            cost.Add(costMicros, new TagList { { PlatformTags.TenantId, tenantId }, { ModelTag, model } });
        }
    }

    public void BudgetFailedClosed(string tenantId) => budgetFailClosed.Add(1, new TagList { { PlatformTags.TenantId, tenantId } });

    public void RateLimitFailedOpen(string tenantId) => rateLimitFailOpen.Add(1, new TagList { { PlatformTags.TenantId, tenantId } });

    private void AddTokens(string tenantId, string model, string type, long count)
    {
        if (count > 0)
        {
            tokens.Add(count, new TagList { { PlatformTags.TenantId, tenantId }, { ModelTag, model }, { TokenTypeTag, type } });
        }
    }
}
