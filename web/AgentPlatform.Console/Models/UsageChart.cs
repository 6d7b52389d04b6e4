using System.Globalization;
using MudBlazor;

namespace AgentPlatform.Console.Models;

/// <summary>
/// A usage report grouped by day as chart series: one label per day of the window, days without calls as zero (the
/// API lists only days that had calls), cost in currency units and tokens as input plus output.
/// </summary>
public sealed class UsageChart
{
    public const string CostSeries = "Cost";
    public const string TokensSeries = "Tokens";

    /// <summary>Up to this many days every bar has its label.</summary>
    public const int MaxLabelledDays = 14;

    private UsageChart(IReadOnlyList<DateOnly> days, double[] cost, double[] tokens)
    {
        Days = days;
        // A label under every bar while they fit; over two weeks, every 7th day so they do not overlap.
        Labels = [.. days.Select((d, i) => days.Count <= MaxLabelledDays || i % 7 == 0 ? d.ToString("MM-dd", CultureInfo.InvariantCulture) : "")];
        Cost = cost;
        Tokens = tokens;
    }

    public IReadOnlyList<DateOnly> Days { get; }

    public string[] Labels { get; }

    public IReadOnlyList<double> Cost { get; }

    public IReadOnlyList<double> Tokens { get; }

    public bool IsEmpty => Cost.All(c => c == 0) && Tokens.All(t => t == 0);

    public static UsageChart FromDays(ModelUsageReport report)
    {
        var days = new List<DateOnly>();
        for (var day = report.From; day <= report.To; day = day.AddDays(1))
        {
            days.Add(day);
        }

        var byDay = report.Items
            .Where(i => i.Key is not null)
            .ToDictionary(i => DateOnly.ParseExact(i.Key!, "yyyy-MM-dd", CultureInfo.InvariantCulture));
        var cost = new double[days.Count];
        var tokens = new double[days.Count];
        for (var i = 0; i < days.Count; i++)
        {
            if (byDay.TryGetValue(days[i], out var totals))
            {
                cost[i] = (double)ModelFormat.FromMicros(totals.CostMicros);
                tokens[i] = totals.TotalTokens;
            }
        }

        return new UsageChart(days, cost, tokens);
    }

    /// <summary>The chart's one series: <see cref="CostSeries"/> or <see cref="TokensSeries"/>.</summary>
    public List<ChartSeries<double>> Series(string metric) =>
    [
        new ChartSeries<double> { Name = metric, Data = new ChartData<double>(metric == TokensSeries ? Tokens : Cost) },
    ];
}
