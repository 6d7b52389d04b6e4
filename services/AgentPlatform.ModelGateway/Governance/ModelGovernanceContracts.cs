namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// What governance needs to know about a model call before it is sent, and what happened after. The data
/// plane (routing, providers, wire format) calls <see cref="IModelGovernance"/>; governance owns budgets, rate
/// limits, prices, usage records and metrics.
/// </summary>
public interface IModelGovernance
{
    /// <summary>
    /// Checks the caller's request and token rate limits and reserves the call's worst-case cost on every budget
    /// that applies (tenant, user, API key). Refused calls are recorded as usage with their outcome.
    /// </summary>
    ValueTask<Admission> AdmitAsync(ModelCallRequest request, CancellationToken cancellationToken);
}

/// <summary>Who is calling: taken from the validated access token and the platform's correlation headers.</summary>
public sealed record ModelCaller(
    string TenantId,
    string Subject,
    string? UserId,
    string? ApiKeyId,
    string? TraceId,
    string? TaskId,
    string? MainAgentId,
    string? SubAgentId);

/// <summary>Prices in micro-units of the platform currency per million tokens.</summary>
public sealed record ModelPrice(long InputMicros, long OutputMicros, long CachedInputMicros)
{
    public static ModelPrice Free { get; } = new(0, 0, 0);

    /// <summary>The cost of a call in micro-units, rounded up so a budget never leaks through rounding.</summary>
    public long CostMicros(long inputTokens, long outputTokens, long cachedInputTokens) =>
        CeilingDivide(((inputTokens - cachedInputTokens) * InputMicros) + (outputTokens * OutputMicros) + (cachedInputTokens * CachedInputMicros), 1_000_000);

    private static long CeilingDivide(long value, long divisor) => value <= 0 ? 0 : ((value - 1) / divisor) + 1;
}

/// <summary>
/// A call about to be sent. <see cref="WorstCasePrice"/> is the highest price of any deployment the route
/// and its fallbacks may use, so the reservation covers whichever serves it.
/// </summary>
public sealed record ModelCallRequest(
    ModelCaller Caller,
    string Operation,
    string ModelRequested,
    ModelPrice WorstCasePrice,
    int EstimatedInputTokens,
    int MaxOutputTokens,
    bool Streamed,
    bool DryRun);

/// <summary>Governance's answer: a lease to call under, or a refusal to answer with.</summary>
public sealed record Admission(IModelCallLease? Lease, ModelCallRefusal? Refusal)
{
    public bool Admitted => Lease is not null;
}

/// <summary>Why a call was refused, in the terms the wire format needs (OpenAI error JSON + headers).</summary>
public sealed record ModelCallRefusal(int StatusCode, string Type, string Code, string Message, TimeSpan? RetryAfter)
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The reservation a call runs under. Dispose without <see cref="CompleteAsync"/> (a crash of the request)
/// releases the reservation and records the call as cancelled.
/// </summary>
public interface IModelCallLease : IAsyncDisposable
{
    /// <summary>Rate-limit headers for the response (<c>x-ratelimit-*</c>, OpenAI's names).</summary>
    IReadOnlyDictionary<string, string> ResponseHeaders { get; }

    /// <summary>
    /// While streaming: whether the call may go on producing, given the output so far at the serving
    /// deployment's price. Reserves more budget when the estimate is exceeded; false when no budget is left
    /// (or budgets cannot be checked, since budgets fail closed), and the stream must then stop cleanly.
    /// Cheap while the output stays within the reservation: no store call is made then.
    /// </summary>
    ValueTask<bool> TryContinueAsync(long outputTokensSoFar, ModelPrice servingPrice, CancellationToken cancellationToken);

    /// <summary>Settles the budgets to the real cost and records usage, attempts and metrics.</summary>
    ValueTask CompleteAsync(ModelCallResult result, CancellationToken cancellationToken);
}

/// <summary>One try at one deployment.</summary>
public sealed record ModelAttempt(
    string Route,
    string Deployment,
    string Model,
    string Outcome,
    int? StatusCode,
    TimeSpan Duration,
    string? Error);

/// <summary>What the call did, for settlement and the usage record.</summary>
public sealed record ModelCallResult(
    string Outcome,
    int StatusCode,
    string? ModelServed,
    string? Deployment,
    ModelPrice ServingPrice,
    long InputTokens,
    long OutputTokens,
    long CachedInputTokens,
    IReadOnlyList<ModelAttempt> Attempts,
    TimeSpan Latency,
    bool Offline);

/// <summary>Outcomes shared by attempts and calls.</summary>
public static class ModelOutcomes
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string RateLimited = "rate-limited";
    public const string ContextLengthExceeded = "context-length-exceeded";
    public const string ContentFiltered = "content-filtered";
    public const string SkippedCoolingDown = "skipped-cooling-down";
    public const string BudgetExceeded = "budget-exceeded";
    public const string StoppedOutOfBudget = "stopped-out-of-budget";
    public const string Cancelled = "cancelled";
    public const string Mocked = "mocked";
}
