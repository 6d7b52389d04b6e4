using AgentPlatform.Domain.Models;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// Admits model calls: rate limits first (cheap, fail open), then the worst-case cost reserved on every budget
/// that applies (fail closed). Refusals are recorded as usage right away; admitted calls are recorded when their
/// lease completes or is disposed.
/// </summary>
public sealed partial class ModelGovernance(
    ModelRateLimiter rateLimiter,
    ModelBudgetCatalog budgets,
    ModelBudgetLedger ledger,
    ModelUsageRecorder recorder,
    ModelGatewayMetrics metrics,
    IOptionsMonitor<ModelGovernanceOptions> options,
    TimeProvider timeProvider,
    ILogger<ModelGovernance> logger) : IModelGovernance
{
    public const string BudgetExceededType = "insufficient_quota";
    public const string BudgetExceededCode = "budget_exceeded";
    public const string BudgetUnavailableCode = "budget_unavailable";

    /// <summary>When budgets cannot be checked, how soon the caller is told to try again.</summary>
    public static readonly TimeSpan BudgetUnavailableRetryAfter = TimeSpan.FromSeconds(5);

    public async ValueTask<Admission> AdmitAsync(ModelCallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startedAt = timeProvider.GetUtcNow();
        var startTimestamp = timeProvider.GetTimestamp();

        // Dry runs are not sent to a provider: they count as requests, but use no tokens and spend no budget.
        var tokens = request.DryRun ? 0 : (long)request.EstimatedInputTokens + request.MaxOutputTokens;
        var rateLimits = await rateLimiter.AcquireAsync(request.Caller, tokens, cancellationToken);
        if (rateLimits.Refusal is { } rateRefusal)
        {
            await RecordRefusalAsync(request, startedAt, startTimestamp, ModelOutcomes.RateLimited, rateRefusal);
            return new Admission(null, rateRefusal);
        }

        IReadOnlyList<BudgetHold> holds = [];
        var reserved = 0L;
        if (!request.DryRun)
        {
            var (refusal, budgetHolds, amount) = await ReserveBudgetsAsync(request, startedAt, rateLimits, cancellationToken);
            if (refusal is not null)
            {
                await rateLimits.ReleaseAsync();
                await RecordRefusalAsync(request, startedAt, startTimestamp, refusal.StatusCode == 429 ? ModelOutcomes.BudgetExceeded : ModelOutcomes.Error, refusal);
                return new Admission(null, refusal);
            }

            holds = budgetHolds;
            reserved = amount;
        }

        return new Admission(
            new ModelCallLease(request, startedAt, startTimestamp, holds, reserved, rateLimits, ledger, recorder, options.CurrentValue.StreamExtensionTokens, timeProvider),
            null);
    }

    private async ValueTask<(ModelCallRefusal? Refusal, IReadOnlyList<BudgetHold> Holds, long Amount)> ReserveBudgetsAsync(
        ModelCallRequest request, DateTimeOffset now, RateLimitAdmission rateLimits, CancellationToken cancellationToken)
    {
        var caller = request.Caller;
        IReadOnlyList<ApplicableBudget> applicable;
        try
        {
            applicable = await budgets.GetAsync(caller, cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogBudgetsUnreadable(logger, exception, caller.TenantId);
            return (Unavailable(caller.TenantId, rateLimits), [], 0);
        }
        catch (OperationCanceledException)
        {
            await rateLimits.ReleaseAsync();
            throw;
        }

        if (applicable.Count == 0)
        {
            return (null, [], 0);
        }

        var amount = request.WorstCasePrice.CostMicros(request.EstimatedInputTokens, request.MaxOutputTokens, 0);
        var holds = ledger.HoldsFor(caller.TenantId, applicable, now);
        var reservation = await ledger.TryReserveAsync(holds, amount);
        if (reservation.StoreUnavailable)
        {
            return (Unavailable(caller.TenantId, rateLimits), [], 0);
        }

        return reservation.Allowed
            ? (null, holds, amount)
            : (Exceeded(caller, reservation.RefusedBy!, reservation.Spent, amount, now, rateLimits), [], 0);
    }

    /// <summary>
    /// Budgets fail closed, unlike rate limits: a budget is a promise about money, and with the counters store down
    /// nothing would stop any number of calls from spending past it — the leak a budget exists to prevent. A 503
    /// with Retry-After is retryable; an overspend cannot be taken back.
    /// </summary>
    private ModelCallRefusal Unavailable(string tenantId, RateLimitAdmission rateLimits)
    {
        metrics.BudgetFailedClosed(tenantId);
        return new ModelCallRefusal(
            503,
            "server_error",
            BudgetUnavailableCode,
            "Budgets cannot be checked right now, so the call was not sent. Please try again shortly.",
            BudgetUnavailableRetryAfter) { Headers = rateLimits.ReleasedHeaders };
    }

    private static ModelCallRefusal Exceeded(ModelCaller caller, BudgetHold hold, long spent, long amount, DateTimeOffset now, RateLimitAdmission rateLimits)
    {
        var budget = hold.Budget;
        var subject = budget.Scope switch
        {
            ModelBudgetKeys.TenantScope => $"tenant '{caller.TenantId}'",
            ModelBudgetKeys.UserScope => $"user '{budget.SubjectId}'",
            _ => $"API key '{budget.SubjectId}'",
        };
        var limit = ModelBudgetLedger.FormatMicros(budget.LimitMicros);
        var cost = ModelBudgetLedger.FormatMicros(amount);
        if (amount > budget.LimitMicros)
        {
            // Waiting for the reset would not help: the call does not fit even an empty budget.
            return new ModelCallRefusal(
                429,
                BudgetExceededType,
                BudgetExceededCode,
                $"This call may cost up to {cost}, more than the whole {budget.Period} budget of {limit} of the {subject}. Lower max_tokens or shorten the input.",
                null) { Headers = rateLimits.ReleasedHeaders };
        }

        return new ModelCallRefusal(
            429,
            BudgetExceededType,
            BudgetExceededCode,
            $"The {budget.Period} budget of the {subject} has no room for this call: {ModelBudgetLedger.FormatMicros(spent)} of {limit} is spent or reserved, and this call may cost up to {cost}. The budget resets at {hold.ResetsAt:yyyy-MM-ddTHH:mm:ssZ}.",
            hold.ResetsAt - now) { Headers = rateLimits.ReleasedHeaders };
    }

    private async ValueTask RecordRefusalAsync(ModelCallRequest request, DateTimeOffset startedAt, long startTimestamp, string outcome, ModelCallRefusal refusal)
    {
        var record = ModelUsageRecorder.NewRecord(request, startedAt, outcome, refusal.StatusCode);
        record.LatencyMilliseconds = timeProvider.GetElapsedTime(startTimestamp).TotalMilliseconds;
        await recorder.RecordAsync(record);
    }

    [LoggerMessage(LogLevel.Error, "The budgets of tenant {TenantId} could not be read; the call is refused (budgets fail closed).")]
    private static partial void LogBudgetsUnreadable(ILogger logger, Exception exception, string tenantId);
}
