using AgentPlatform.Domain.Models;
using System.Globalization;
using AgentPlatform.Domain.Counters;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>One budget's spending counter for the current period, as a call holds it.</summary>
public sealed record BudgetHold(ApplicableBudget Budget, string Key, TimeSpan Window, DateTimeOffset ResetsAt);

/// <summary>The outcome of reserving on every budget of a call.</summary>
/// <param name="Allowed">Whether the amount is now reserved on every budget.</param>
/// <param name="RefusedBy">The budget without room, when refused.</param>
/// <param name="Spent">The refusing budget's spending (reservations included), when refused.</param>
/// <param name="StoreUnavailable">The counters store failed, so nothing is reserved.</param>
public readonly record struct BudgetReservation(bool Allowed, BudgetHold? RefusedBy, long Spent, bool StoreUnavailable);

/// <summary>
/// Reserves and settles budget spending on the counters port, under the keys of <see cref="ModelBudgetKeys"/>
/// (which the control plane reads for budget status). Each budget's check-and-add is one atomic
/// <see cref="ICounterStore.TryIncrementWithinAsync"/>, so concurrent calls can never together take a budget
/// past its limit; a call reserves its worst case before it is sent and settles to its real cost after.
/// </summary>
public sealed partial class ModelBudgetLedger(
    ICounterStore store,
    IOptionsMonitor<ModelGovernanceOptions> options,
    TimeProvider timeProvider,
    ILogger<ModelBudgetLedger> logger)
{
    // A period's counter outlives the period by this much, so a call that started before midnight (or the month's
    // end) settles on the counter it reserved on, and the last period's total stays readable for a while.
    private static readonly TimeSpan SettlementGrace = TimeSpan.FromDays(2);

    public IReadOnlyList<BudgetHold> HoldsFor(string tenantId, IReadOnlyList<ApplicableBudget> budgets, DateTimeOffset now) =>
        budgets.Select(budget =>
        {
            var resetsAt = ModelBudgetKeys.PeriodEnd(budget.Period, now);
            return new BudgetHold(
                budget,
                ModelBudgetKeys.SpentKey(tenantId, budget.Scope, budget.SubjectId, budget.Period, now),
                resetsAt - now + SettlementGrace,
                resetsAt);
        }).ToList();

    /// <summary>
    /// Reserves <paramref name="amount"/> on every budget, or on none: when one refuses (or the store fails), the
    /// ones already taken are given back.
    /// </summary>
    /// <remarks>
    /// The caller's cancellation token is deliberately not passed to the store: a reservation abandoned halfway
    /// might have been made without anyone knowing to give it back. A store call that times out is treated as a
    /// failure; if it did reserve after all, the budget reads as more spent than it is until the period ends —
    /// the safe direction.
    /// </remarks>
    public async ValueTask<BudgetReservation> TryReserveAsync(IReadOnlyList<BudgetHold> holds, long amount)
    {
        var taken = new List<BudgetHold>(holds.Count);
        try
        {
            foreach (var hold in holds)
            {
                var reservation = await store.TryIncrementWithinAsync(hold.Key, amount, hold.Budget.LimitMicros, hold.Window, CancellationToken.None).WithTimeout(options.CurrentValue.StoreTimeout, timeProvider);
                if (!reservation.Allowed)
                {
                    await AdjustAsync(taken, -amount);
                    return new BudgetReservation(false, hold, reservation.Value, false);
                }

                taken.Add(hold);
            }
        }
        catch (Exception exception)
        {
            LogStoreFailed(logger, exception);
            await AdjustAsync(taken, -amount);
            return new BudgetReservation(false, null, 0, true);
        }

        return new BudgetReservation(true, null, 0, false);
    }

    /// <summary>
    /// Adds <paramref name="delta"/> (negative to release) to every budget's counter. Failures are logged, not
    /// thrown: settlement happens after the call, when there is nothing left to refuse.
    /// </summary>
    public async ValueTask AdjustAsync(IEnumerable<BudgetHold> holds, long delta)
    {
        if (delta == 0)
        {
            return;
        }

        foreach (var hold in holds)
        {
            try
            {
                await store.IncrementAsync(hold.Key, delta, hold.Window, CancellationToken.None).WithTimeout(options.CurrentValue.StoreTimeout, timeProvider);
            }
            catch (Exception exception)
            {
                LogAdjustFailed(logger, exception, hold.Key, delta);
            }
        }
    }

    /// <summary>Micro-units as currency units, for messages: <c>12.5</c>, <c>0.000001</c>.</summary>
    public static string FormatMicros(long micros) =>
        (micros / 1_000_000m).ToString("0.######", CultureInfo.InvariantCulture);

    [LoggerMessage(LogLevel.Error, "The counters store failed a budget reservation; the call is refused (budgets fail closed).")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Error, "Could not adjust the budget counter {Key} by {Delta} micro-units; its spending is off by that much until the period ends.")]
    private static partial void LogAdjustFailed(ILogger logger, Exception exception, string key, long delta);
}
