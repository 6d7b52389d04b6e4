using System.Globalization;
using AgentPlatform.Console.Dashboard;

namespace AgentPlatform.Console.Tests.Dashboard;

public sealed class DashboardViewTests
{
    private readonly DashboardView view = new(Statistics.Parse(Statistics.ThreeHoursJson));

    [Fact]
    public void Every_bucket_is_a_point_of_every_series_empty_ones_as_zero()
    {
        Assert.Equal(["12:00", "13:00", "14:00"], view.Labels);
        Assert.Equal([DashboardView.Completed, DashboardView.Failed, DashboardView.Cancelled, DashboardView.InProgress], view.Volume.Series.Select(s => s.Name));
        Assert.Equal([9.0, 0, 0], Series(view.Volume, DashboardView.Completed));
        Assert.Equal([1.0, 0, 0], Series(view.Volume, DashboardView.Failed));
        Assert.Equal([0.0, 0, 3], Series(view.Volume, DashboardView.InProgress));
        Assert.All(view.Volume.Series, s => Assert.Equal(3, s.Values.Count));
    }

    [Fact]
    public void Percentiles_are_seconds_with_gaps_where_no_task_ended()
    {
        Assert.Equal([1.5, null, null], Series(view.Latency, DashboardView.P50));
        Assert.Equal([42.0, null, null], Series(view.Latency, DashboardView.P95));
        Assert.Equal(1, view.Latency.Axis.Factor);
        Assert.Contains("p50 1.5 s and p95 42.0 s", view.Latency.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokens_and_cost_follow_the_buckets_and_a_small_cost_is_plotted_in_thousandths_that_read_as_units()
    {
        Assert.Equal([12000.0, 0, 0], Series(view.Tokens, DashboardView.InputTokens));
        Assert.Equal([3456.0, 0, 0], Series(view.Tokens, DashboardView.OutputTokens));
        Assert.Equal(5000, view.Tokens.Axis.Step);

        var cost = Series(view.CostOverTime, DashboardView.Cost);
        Assert.Equal(1234.567, cost[0]!.Value, 6);
        Assert.Equal([0.0, 0], cost.Skip(1));
        Assert.Equal("1.235", cost[0]!.Value.ToString(view.CostOverTime.Axis.Format, CultureInfo.InvariantCulture));
        Assert.Equal("0.5", 500d.ToString(view.CostOverTime.Axis.Format, CultureInfo.InvariantCulture));
        Assert.Contains("1.23 over the window", view.CostOverTime.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(3, 1_000, 1000)]
    [InlineData(5, 1, 2)]
    [InlineData(11, 1, 5)]
    [InlineData(15456, 1, 5000)]
    [InlineData(42, 1, 20)]
    [InlineData(1.234567, 1_000, 500)]
    [InlineData(0.0042, 1_000_000, 2000)]
    public void Amount_axes_scale_small_values_and_step_in_1_2_5(double max, double factor, int step)
    {
        var axis = ChartAxis.Amounts(max);

        Assert.Equal(factor, axis.Factor);
        Assert.Equal(step, axis.Step);
    }

    [Fact]
    public void Count_axes_never_scale()
    {
        var axis = ChartAxis.Counts(3);

        Assert.Equal(1, axis.Factor);
        Assert.Equal(1, axis.Step);
        Assert.Equal("0.0042", 4200d.ToString(ChartAxis.Amounts(0.0042).Format, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_headline_figures_come_from_the_totals()
    {
        var kpis = view.Kpis.ToDictionary(k => k.Key, k => k.Value);

        Assert.Equal("14", kpis["tasks"]);
        Assert.Equal("81.8 %", kpis["success-rate"]);
        Assert.Equal("1.5 s", kpis["p50"]);
        Assert.Equal("42.0 s", kpis["p95"]);
        Assert.Equal("15,456", kpis["tokens"]);
        Assert.Equal("1.23", kpis["cost"]);
        Assert.True(view.HasTasks);
    }

    [Fact]
    public void Failing_sub_agents_are_bars_of_failed_and_other_runs()
    {
        Assert.Equal(["retrieval", "analysis"], view.FailingSubAgents.Labels);
        Assert.Equal([2.0, 1], Series(view.FailingSubAgents, DashboardView.FailedRuns));
        Assert.Equal([6.0, 9], Series(view.FailingSubAgents, DashboardView.SucceededRuns));
        Assert.Equal("Sub-agents with the most failed runs: retrieval 2 of 8 runs (25 %); analysis 1 of 10 runs (10 %).", view.FailingSubAgents.Summary);
    }

    [Fact]
    public void The_volume_summary_names_the_busiest_bucket()
    {
        Assert.Equal(
            "Tasks per hour: 14 submitted in the window; 9 completed, 1 failed, 1 cancelled, 3 queued or running. Busiest hour: 12:00 on Nov 26 with 11.",
            view.Volume.Summary);
    }

    [Fact]
    public void A_window_without_tasks_has_no_tasks_dashes_for_missing_figures_and_all_its_buckets()
    {
        var empty = new DashboardView(Statistics.Parse(Statistics.EmptyWeekJson()));
        var kpis = empty.Kpis.ToDictionary(k => k.Key, k => k.Value);

        Assert.False(empty.HasTasks);
        Assert.Equal(7, empty.Labels.Count);
        Assert.Equal("Nov 20", empty.Labels[0]);
        Assert.Equal("—", kpis["success-rate"]);
        Assert.Equal("—", kpis["p50"]);
        Assert.Equal("0.00", kpis["cost"]);
        Assert.All(Series(empty.Latency, DashboardView.P95), Assert.Null);
        Assert.Equal("Task duration per day: no task ended in the window.", empty.Latency.Summary);
        Assert.Equal("No sub-agent run failed in the window.", empty.FailingSubAgents.Summary);
        Assert.Empty(empty.FailingSubAgents.Labels);
    }

    [Fact]
    public void Cost_by_model_is_most_expensive_first()
    {
        var report = new ModelUsageReport(new DateOnly(2026, 11, 20), new DateOnly(2026, 11, 26), "model",
        [
            new("small", 40, 1000, 500, 0, 20_000, 0),
            new("large", 5, 9000, 3000, 0, 3_500_000, 1),
            new(null, 1, 10, 10, 0, 0, 1),
        ]);

        var costs = new ModelCostView(report);

        Assert.True(costs.HasCalls);
        Assert.Equal(["large", "small", "(unknown)"], costs.Chart.Labels);
        Assert.Equal(1_000, costs.Chart.Axis.Factor);
        Assert.Equal([3500.0, 20, 0], costs.Chart.Series.Single().Values);
        Assert.StartsWith("Cost by model from Nov 20 to Nov 26 (whole UTC days): large 3.50 in 5 calls;", costs.Chart.Summary, StringComparison.Ordinal);
    }

    private static IReadOnlyList<double?> Series(DashboardChart chart, string name) => chart.Series.Single(s => s.Name == name).Values;
}
