using System.Globalization;
using AgentPlatform.Console.Tasks;

namespace AgentPlatform.Console.Dashboard;

/// <summary>One named line or bar series; a null value is a gap (a bucket without a figure, e.g. no ended task).</summary>
public sealed record ChartLine(string Name, IReadOnlyList<double?> Values);

/// <summary>
/// A chart as the page draws it: one label per bucket, its series, and <see cref="Summary"/>, the same figures in a
/// sentence for screen readers and for anyone who cannot read the chart. <see cref="Axis"/> says how values are plotted.
/// </summary>
public sealed record DashboardChart(IReadOnlyList<string> Labels, IReadOnlyList<ChartLine> Series, string Summary, ChartAxis Axis);

/// <summary>
/// How a chart's values sit on its vertical axis. The chart's tick spacing is a whole number, so values well below one
/// (a cost of 0.02, a duration of 0.4 s) are plotted multiplied by 1,000 or 1,000,000 and <see cref="Format"/> — a .NET
/// format whose scaling commas divide them back — shows them in their own unit on the axis and in tooltips.
/// </summary>
public sealed record ChartAxis(double Factor, string Format, int Step)
{
    private static readonly int[] Multiples = [1, 2, 5, 10];

    /// <summary>Whole numbers (tasks, tokens, runs) with a tick spacing that gives about four ticks.</summary>
    public static ChartAxis Counts(double max) => new(1, "#,##0", NiceStep(max));

    /// <summary>Amounts that may be fractions (seconds, cost): scaled until the largest is at least 5.</summary>
    public static ChartAxis Amounts(double max)
    {
        var (factor, format) = max is 0 or >= 5 ? (1d, "#,##0.##")
            : max * 1_000 >= 5 ? (1_000d, "0,.###")
            : (1_000_000d, "0,,.######");
        return new(factor, format, NiceStep(max * factor));
    }

    /// <summary>1, 2 or 5 times a power of ten, the smallest at least a quarter of <paramref name="max"/>.</summary>
    public static int NiceStep(double max)
    {
        var raw = max / 4;
        if (raw <= 1)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = Multiples.Select(m => m * magnitude).First(candidate => candidate >= raw);
        return (int)Math.Min(step, int.MaxValue);
    }

    public double? Plot(double? value) => value * Factor;
}

/// <summary>A headline figure.</summary>
public sealed record Kpi(string Key, string Label, string Value, string? Hint = null);

/// <summary>The dashboard's figures and charts, from a <c>/api/tasks/stats</c> answer.</summary>
public sealed class DashboardView
{
    public const string Completed = "Completed";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";
    public const string InProgress = "Queued or running";
    public const string P50 = "p50";
    public const string P95 = "p95";
    public const string InputTokens = "Input tokens";
    public const string OutputTokens = "Output tokens";
    public const string Cost = "Cost";
    public const string FailedRuns = "Failed runs";
    public const string SucceededRuns = "Other runs";

    public DashboardView(TaskStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        Statistics = statistics;
        var buckets = statistics.Buckets;
        var unit = statistics.Bucket == DashboardWindow.Hour ? "hour" : "day";
        Labels = [.. buckets.Select(b => DashboardFormat.BucketLabel(b.Start, statistics.Bucket))];
        var totals = statistics.Totals;

        Kpis =
        [
            new("tasks", "Tasks", DashboardFormat.Count(totals.Submitted),
                $"{DashboardFormat.Count(totals.Completed)} completed · {DashboardFormat.Count(totals.Failed)} failed · {DashboardFormat.Count(totals.Cancelled)} cancelled"),
            new("success-rate", "Success rate", DashboardFormat.Percent(totals.SuccessRate), "of the tasks that ended"),
            new("p50", "Duration p50", TaskFormat.Duration(totals.P50DurationMs), "half of the ended tasks ran at most this long"),
            new("p95", "Duration p95", TaskFormat.Duration(totals.P95DurationMs), "95 % of the ended tasks ran at most this long"),
            new("tokens", "Tokens", TaskFormat.Tokens(totals.Usage.TotalTokens),
                $"{TaskFormat.Tokens(totals.Usage.InputTokens)} in · {TaskFormat.Tokens(totals.Usage.OutputTokens)} out"),
            new("cost", "Cost", DashboardFormat.Cost(totals.Usage.CostMicros), "in the price list's currency"),
        ];

        // Stacked charts' axes reach the tallest stack, line charts' the largest value.
        var volume = ChartAxis.Counts(buckets.Select(b => (double)b.Submitted).DefaultIfEmpty().Max());
        Volume = new(Labels,
        [
            new(Completed, [.. buckets.Select(b => volume.Plot(b.Completed))]),
            new(Failed, [.. buckets.Select(b => volume.Plot(b.Failed))]),
            new(Cancelled, [.. buckets.Select(b => volume.Plot(b.Cancelled))]),
            new(InProgress, [.. buckets.Select(b => volume.Plot(b.Queued + b.Running))]),
        ], VolumeSummary(statistics, unit), volume);

        var latency = ChartAxis.Amounts(buckets.Select(b => Seconds(b.P95DurationMs) ?? 0).DefaultIfEmpty().Max());
        Latency = new(Labels,
        [
            new(P50, [.. buckets.Select(b => latency.Plot(Seconds(b.P50DurationMs)))]),
            new(P95, [.. buckets.Select(b => latency.Plot(Seconds(b.P95DurationMs)))]),
        ], LatencySummary(statistics, unit), latency);

        var tokens = ChartAxis.Counts(buckets.Select(b => (double)b.Usage.InputTokens + b.Usage.OutputTokens).DefaultIfEmpty().Max());
        Tokens = new(Labels,
        [
            new(InputTokens, [.. buckets.Select(b => tokens.Plot(b.Usage.InputTokens))]),
            new(OutputTokens, [.. buckets.Select(b => tokens.Plot(b.Usage.OutputTokens))]),
        ], TokensSummary(statistics, unit), tokens);

        var cost = ChartAxis.Amounts(buckets.Select(b => Units(b.Usage.CostMicros)).DefaultIfEmpty().Max());
        CostOverTime = new(Labels,
        [
            new(Cost, [.. buckets.Select(b => cost.Plot(Units(b.Usage.CostMicros)))]),
        ], CostSummary(statistics, unit), cost);

        var failing = statistics.TopFailingSubAgents;
        var runs = ChartAxis.Counts(failing.Select(s => (double)s.Runs).DefaultIfEmpty().Max());
        FailingSubAgents = new([.. failing.Select(s => s.SubAgentId)],
        [
            new(FailedRuns, [.. failing.Select(s => runs.Plot(s.Failures))]),
            new(SucceededRuns, [.. failing.Select(s => runs.Plot(s.Runs - s.Failures))]),
        ], FailingSummary(failing), runs);
    }

    public TaskStatistics Statistics { get; }

    /// <summary>False when no task was submitted in the window: the page shows its empty state instead of charts.</summary>
    public bool HasTasks => Statistics.Totals.Submitted > 0;

    public IReadOnlyList<string> Labels { get; }

    public IReadOnlyList<Kpi> Kpis { get; }

    /// <summary>Tasks per bucket by outcome (stacked).</summary>
    public DashboardChart Volume { get; }

    /// <summary>p50 and p95 duration per bucket, in seconds; gaps where no task ended.</summary>
    public DashboardChart Latency { get; }

    public DashboardChart Tokens { get; }

    /// <summary>Cost per bucket in the currency unit.</summary>
    public DashboardChart CostOverTime { get; }

    /// <summary>One bar per sub-agent (labels are their ids): failed and other runs (stacked).</summary>
    public DashboardChart FailingSubAgents { get; }

    private static double? Seconds(long? milliseconds) => milliseconds / 1000.0;

    internal static double Units(long costMicros) => costMicros / 1_000_000.0;

    private static string VolumeSummary(TaskStatistics statistics, string unit)
    {
        var totals = statistics.Totals;
        var summary = $"Tasks per {unit}: {DashboardFormat.Count(totals.Submitted)} submitted in the window; " +
            $"{DashboardFormat.Count(totals.Completed)} completed, {DashboardFormat.Count(totals.Failed)} failed, " +
            $"{DashboardFormat.Count(totals.Cancelled)} cancelled, {DashboardFormat.Count(totals.Queued + totals.Running)} queued or running.";
        var busiest = statistics.Buckets.Where(b => b.Submitted > 0).MaxBy(b => b.Submitted);
        return busiest is null
            ? summary
            : $"{summary} Busiest {unit}: {DashboardFormat.BucketName(busiest.Start, statistics.Bucket)} with {DashboardFormat.Count(busiest.Submitted)}.";
    }

    private static string LatencySummary(TaskStatistics statistics, string unit)
    {
        var totals = statistics.Totals;
        if (totals.P50DurationMs is null)
        {
            return $"Task duration per {unit}: no task ended in the window.";
        }

        var summary = $"Task duration per {unit}: p50 {TaskFormat.Duration(totals.P50DurationMs)} and p95 {TaskFormat.Duration(totals.P95DurationMs)} over the window.";
        var slowest = statistics.Buckets.Where(b => b.P95DurationMs is not null).MaxBy(b => b.P95DurationMs);
        return slowest is null
            ? summary
            : $"{summary} Highest p95: {TaskFormat.Duration(slowest.P95DurationMs)} at {DashboardFormat.BucketName(slowest.Start, statistics.Bucket)}. {char.ToUpperInvariant(unit[0])}{unit[1..]}s without ended tasks have no value.";
    }

    private static string TokensSummary(TaskStatistics statistics, string unit)
    {
        var usage = statistics.Totals.Usage;
        var summary = $"Tokens per {unit}: {TaskFormat.Tokens(usage.InputTokens)} input and {TaskFormat.Tokens(usage.OutputTokens)} output tokens over the window.";
        var peak = statistics.Buckets.Where(b => b.Usage.TotalTokens > 0).MaxBy(b => b.Usage.TotalTokens);
        return peak is null
            ? summary
            : $"{summary} Most: {TaskFormat.Tokens(peak.Usage.TotalTokens)} at {DashboardFormat.BucketName(peak.Start, statistics.Bucket)}.";
    }

    private static string CostSummary(TaskStatistics statistics, string unit)
    {
        var summary = $"Cost per {unit}: {DashboardFormat.Cost(statistics.Totals.Usage.CostMicros)} over the window.";
        var peak = statistics.Buckets.Where(b => b.Usage.CostMicros > 0).MaxBy(b => b.Usage.CostMicros);
        return peak is null
            ? summary
            : $"{summary} Most: {DashboardFormat.Cost(peak.Usage.CostMicros)} at {DashboardFormat.BucketName(peak.Start, statistics.Bucket)}.";
    }

    private static string FailingSummary(IReadOnlyList<SubAgentFailures> failing) =>
        failing.Count == 0
            ? "No sub-agent run failed in the window."
            : "Sub-agents with the most failed runs: " + string.Join("; ", failing.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.SubAgentId} {DashboardFormat.Count(s.Failures)} of {DashboardFormat.Count(s.Runs)} runs ({DashboardFormat.Percent(s.FailureRate)})"))) + ".";
}

/// <summary>Cost by model, from a <c>/api/model-usage?groupBy=model</c> report, most expensive first.</summary>
public sealed class ModelCostView
{
    public ModelCostView(ModelUsageReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        Report = report;
        var models = report.Items.OrderByDescending(i => i.CostMicros).ThenBy(i => i.Key, StringComparer.Ordinal).ToList();
        var axis = ChartAxis.Amounts(models.Select(m => DashboardView.Units(m.CostMicros)).DefaultIfEmpty().Max());
        Chart = new(
            [.. models.Select(m => m.Key ?? "(unknown)")],
            [new(DashboardView.Cost, [.. models.Select(m => axis.Plot(DashboardView.Units(m.CostMicros)))])],
            models.Count == 0
                ? $"No model calls from {Day(report.From)} to {Day(report.To)}."
                : $"Cost by model from {Day(report.From)} to {Day(report.To)} (whole UTC days): " +
                  string.Join("; ", models.Select(m => $"{m.Key ?? "(unknown)"} {DashboardFormat.Cost(m.CostMicros)} in {DashboardFormat.Count(m.Calls)} calls")) + ".",
            axis);
    }

    public ModelUsageReport Report { get; }

    public bool HasCalls => Report.Items.Count > 0;

    public DashboardChart Chart { get; }

    private static string Day(DateOnly day) => day.ToString("MMM d", CultureInfo.InvariantCulture);
}
