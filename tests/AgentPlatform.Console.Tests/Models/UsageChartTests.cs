using AgentPlatform.Console.Models;

namespace AgentPlatform.Console.Tests.Models;

public sealed class UsageChartTests
{
    [Fact]
    public void Every_day_of_the_window_gets_a_point_and_days_without_calls_are_zero()
    {
        var report = new ModelUsageReport(new DateOnly(2026, 11, 23), new DateOnly(2026, 11, 26), UsageGroupings.Day,
        [
            new("2026-11-24", Calls: 3, InputTokens: 1000, OutputTokens: 200, CachedInputTokens: 0, CostMicros: 1_500_000, Errors: 0),
            new("2026-11-26", Calls: 1, InputTokens: 10, OutputTokens: 5, CachedInputTokens: 0, CostMicros: 42, Errors: 1),
        ]);

        var chart = UsageChart.FromDays(report);

        Assert.Equal(["11-23", "11-24", "11-25", "11-26"], chart.Labels);
        Assert.Equal([0, 1.5, 0, 0.000042], chart.Cost);
        Assert.Equal([0, 1200, 0, 15], chart.Tokens);
        Assert.False(chart.IsEmpty);
    }

    [Fact]
    public void The_series_is_the_chosen_metric()
    {
        var report = new ModelUsageReport(new DateOnly(2026, 11, 26), new DateOnly(2026, 11, 26), UsageGroupings.Day,
            [new("2026-11-26", 1, 100, 50, 0, 2_000_000, 0)]);
        var chart = UsageChart.FromDays(report);

        var cost = Assert.Single(chart.Series(UsageChart.CostSeries));
        var tokens = Assert.Single(chart.Series(UsageChart.TokensSeries));

        Assert.Equal(UsageChart.CostSeries, cost.Name);
        Assert.Equal([2.0], cost.Data.Values);
        Assert.Equal([150.0], tokens.Data.Values);
    }

    [Fact]
    public void A_window_without_calls_is_empty()
    {
        var chart = UsageChart.FromDays(new ModelUsageReport(new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 30), UsageGroupings.Day, []));

        Assert.True(chart.IsEmpty);
        Assert.Equal(30, chart.Labels.Length);
        // Thirty labels would overlap: every 7th day is labelled.
        Assert.Equal(["11-01", "11-08", "11-15", "11-22", "11-29"], chart.Labels.Where(label => label.Length > 0));
    }
}
