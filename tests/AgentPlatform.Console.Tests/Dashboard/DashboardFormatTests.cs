using AgentPlatform.Console.Dashboard;

namespace AgentPlatform.Console.Tests.Dashboard;

public sealed class DashboardFormatTests
{
    [Theory]
    [InlineData(0L, "0.00")]
    [InlineData(1_000_000L, "1.00")]
    [InlineData(1_234_567_890L, "1,234.57")]
    [InlineData(10_000L, "0.01")]
    [InlineData(4_200L, "0.0042")]
    [InlineData(1L, "0.000001")]
    [InlineData(-2_500_000L, "-2.50")]
    public void Cost_reads_from_micros_without_hiding_small_spends(long micros, string expected)
    {
        Assert.Equal(expected, DashboardFormat.Cost(micros));
    }

    [Theory]
    [InlineData(null, "—")]
    [InlineData(1.0, "100 %")]
    [InlineData(0.0, "0 %")]
    [InlineData(0.9526, "95.2 %")]
    [InlineData(0.99999, "99.9 %")]
    public void A_rate_reads_as_a_percentage_that_never_rounds_up_to_100(double? rate, string expected)
    {
        Assert.Equal(expected, DashboardFormat.Percent(rate));
    }

    [Fact]
    public void Buckets_are_labelled_by_hour_or_by_day()
    {
        var start = new DateTime(2026, 11, 26, 14, 0, 0, DateTimeKind.Utc);

        Assert.Equal("14:00", DashboardFormat.BucketLabel(start, DashboardWindow.Hour));
        Assert.Equal("Nov 26", DashboardFormat.BucketLabel(start, DashboardWindow.Day));
        Assert.Equal("14:00 on Nov 26", DashboardFormat.BucketName(start, DashboardWindow.Hour));
    }
}
