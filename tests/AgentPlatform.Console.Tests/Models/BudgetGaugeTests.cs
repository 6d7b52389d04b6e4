using AgentPlatform.Console.Models;
using MudBlazor;

namespace AgentPlatform.Console.Tests.Models;

public sealed class BudgetGaugeTests
{
    [Theory]
    [InlineData(10_000_000, 2_500_000, 25, "Success", false)]
    [InlineData(10_000_000, 8_000_000, 80, "Warning", false)]
    [InlineData(10_000_000, 10_000_000, 100, "Error", true)]
    [InlineData(10_000_000, 12_000_000, 100, "Error", true)]
    [InlineData(0, 0, 100, "Error", true)]
    public void A_budgets_status_becomes_its_bar(long limit, long spent, double percent, string color, bool exhausted)
    {
        var gauge = BudgetGauge.From(Status(limit, spent));

        Assert.Equal(percent, gauge.Percent, precision: 6);
        Assert.Equal(Enum.Parse<Color>(color), gauge.Color);
        Assert.Equal(exhausted, gauge.Exhausted);
    }

    [Fact]
    public void The_label_says_what_was_spent_and_what_is_left()
    {
        Assert.Equal("2.50 of 10.00 spent · 7.50 left", BudgetGauge.From(Status(10_000_000, 2_500_000)).Label);
        Assert.Equal("12.000042 of 10.00 spent · exhausted", BudgetGauge.From(Status(10_000_000, 12_000_042)).Label);
    }

    private static ModelBudgetStatus Status(long limit, long spent) =>
        new(limit, spent, Math.Max(0, limit - spent), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));
}
