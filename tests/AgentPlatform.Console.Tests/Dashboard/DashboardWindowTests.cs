using AgentPlatform.Console.Dashboard;

namespace AgentPlatform.Console.Tests.Dashboard;

public sealed class DashboardWindowTests
{
    private static readonly DateTime Now = new(2026, 11, 26, 10, 17, 42, DateTimeKind.Utc);

    [Fact]
    public void The_last_24_hours_are_24_whole_hour_buckets_ending_with_the_current_hour()
    {
        var window = DashboardWindow.Last24Hours;

        Assert.Equal(new DateTime(2026, 11, 25, 11, 0, 0, DateTimeKind.Utc), window.FromAt(Now));
        Assert.Equal(new DateTime(2026, 11, 26, 11, 0, 0, DateTimeKind.Utc), window.ToAt(Now));
        Assert.Equal(
            "/api/tasks/stats?from=2026-11-25T11%3A00%3A00Z&to=2026-11-26T11%3A00%3A00Z&bucket=hour",
            window.StatisticsPath(Now));
    }

    [Theory]
    [InlineData("7d", "2026-11-20T00%3A00%3A00Z", "2026-11-20")]
    [InlineData("30d", "2026-10-28T00%3A00%3A00Z", "2026-10-28")]
    public void Day_windows_are_whole_days_ending_with_today(string key, string from, string fromDay)
    {
        var window = DashboardWindow.FromKey(key);

        Assert.Equal(DashboardWindow.Day, window.Bucket);
        Assert.Equal($"/api/tasks/stats?from={from}&to=2026-11-27T00%3A00%3A00Z&bucket=day", window.StatisticsPath(Now));
        Assert.Equal($"/api/model-usage?groupBy=model&from={fromDay}&to=2026-11-26", window.ModelUsagePath(Now));
    }

    [Fact]
    public void The_model_usage_of_the_last_24_hours_covers_the_two_days_they_touch()
    {
        Assert.Equal("/api/model-usage?groupBy=model&from=2026-11-25&to=2026-11-26", DashboardWindow.Last24Hours.ModelUsagePath(Now));
    }

    [Fact]
    public void A_time_on_a_bucket_boundary_still_gets_a_whole_current_bucket()
    {
        var midnight = new DateTime(2026, 11, 26, 0, 0, 0, DateTimeKind.Utc);

        Assert.Equal(new DateTime(2026, 11, 27, 0, 0, 0, DateTimeKind.Utc), DashboardWindow.Last7Days.ToAt(midnight));
        Assert.Equal(new DateTime(2026, 11, 20, 0, 0, 0, DateTimeKind.Utc), DashboardWindow.Last7Days.FromAt(midnight));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1y")]
    public void An_unknown_key_means_the_default_window(string? key)
    {
        Assert.Same(DashboardWindow.Last7Days, DashboardWindow.FromKey(key));
    }
}
