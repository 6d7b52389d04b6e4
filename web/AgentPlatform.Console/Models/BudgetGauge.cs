using MudBlazor;

namespace AgentPlatform.Console.Models;

/// <summary>How full a budget is, as its progress bar shows it: red once exhausted, amber from <see cref="WarningPercent"/>.</summary>
public sealed record BudgetGauge(double Percent, Color Color, bool Exhausted, string Label)
{
    public const double WarningPercent = 80;

    public static BudgetGauge From(ModelBudgetStatus status)
    {
        // A zero limit allows nothing: it is exhausted from the start.
        var exhausted = status.RemainingMicros <= 0 || status.SpentMicros >= status.LimitMicros;
        var percent = status.LimitMicros <= 0
            ? 100
            : Math.Clamp(status.SpentMicros * 100.0 / status.LimitMicros, 0, 100);
        var color = exhausted ? Color.Error : percent >= WarningPercent ? Color.Warning : Color.Success;
        var label = $"{ModelFormat.Amount(status.SpentMicros)} of {ModelFormat.Amount(status.LimitMicros)} spent"
            + (exhausted ? " · exhausted" : $" · {ModelFormat.Amount(status.RemainingMicros)} left");
        return new BudgetGauge(percent, color, exhausted, label);
    }
}
