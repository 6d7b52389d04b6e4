using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentPlatform.Domain.Telemetry;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// Tool calls as OpenTelemetry metrics. Tags stay bounded: tenant, sub-agent, tool (a registered name, or
/// <c>unknown</c> for names a model made up) and outcome; tasks are in the spans and the audit trail.
/// </summary>
public sealed class ToolMetrics
{
    public const string MeterName = "AgentPlatform.Worker.Tools";

    public const string Calls = "agentplatform.tool.calls";
    public const string Duration = "agentplatform.tool.duration";

    /// <summary>The tool's name, as OpenTelemetry's GenAI semantic conventions tag it.</summary>
    public const string ToolTag = "gen_ai.tool.name";
    public const string OutcomeTag = "outcome";

    private readonly Counter<long> calls;
    private readonly Histogram<double> duration;

    public ToolMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        calls = meter.CreateCounter<long>(Calls, "{call}", "Tool calls by outcome (succeeded, failed, refused, cancelled).");
        duration = meter.CreateHistogram<double>(
            Duration,
            "s",
            "Duration of tool calls.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
    }

    public void Recorded(ToolCallContext context, string tool, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { PlatformTags.TenantId, context.TenantId },
            { PlatformTags.SubAgentId, context.SubAgentId },
            { ToolTag, tool },
            { OutcomeTag, outcome },
        };
        calls.Add(1, tags);
        duration.Record(elapsed.TotalSeconds, tags);
    }
}
