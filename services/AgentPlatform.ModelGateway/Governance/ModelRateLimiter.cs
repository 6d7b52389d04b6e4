using System.Globalization;
using AgentPlatform.Domain.Counters;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// Requests and tokens per minute, for the tenant as a whole and for each caller (its API key, else the user the
/// call is charged to, else the token's subject), on the counters port.
/// <para>
/// Fixed one-minute windows aligned to the clock, not token buckets: a window counter is reserved with
/// <see cref="ICounterStore.TryIncrementWithinAsync"/>, so a refused call takes nothing, a call refused by a later
/// check (another limit, a budget) gives its reservation back, and the token estimate is settled to the real count
/// after the call — a bucket can do none of that, since nothing can be put back into one. Aligned windows also make
/// <c>x-ratelimit-reset-*</c> exact. The price is that a caller may use up to twice a limit across a minute
/// boundary, which per-minute quotas (OpenAI's own RPM/TPM) accept.
/// </para>
/// <para>
/// Fails open like the edge gateway: when the counters store is slow or down, calls pass without rate limits for
/// <see cref="ModelRateLimitOptions.FailOpenDuration"/> (logged, and counted in
/// <see cref="ModelGatewayMetrics.RateLimitFailOpen"/>). Rate limits protect capacity; budgets, which protect
/// money, still apply and fail closed.
/// </para>
/// </summary>
public sealed partial class ModelRateLimiter(
    ICounterStore store,
    IOptionsMonitor<ModelRateLimitOptions> options,
    IOptionsMonitor<ModelGovernanceOptions> governanceOptions,
    TimeProvider timeProvider,
    ModelGatewayMetrics metrics,
    ILogger<ModelRateLimiter> logger)
{
    public const string RequestsType = "requests";
    public const string TokensType = "tokens";
    public const string RateLimitCode = "rate_limit_exceeded";

    private const string KeyPrefix = "model-rate:";
    private static readonly TimeSpan WindowLength = TimeSpan.FromMinutes(1);

    // Counters outlive their minute a little, so settling a call that ran past the boundary lands on a live counter.
    private static readonly TimeSpan SettlementGrace = TimeSpan.FromMinutes(5);

    private long uncheckedUntil;

    /// <summary>
    /// Takes one request and <paramref name="tokens"/> tokens from every limit that applies, or nothing when any of
    /// them refuses.
    /// </summary>
    public async ValueTask<RateLimitAdmission> AcquireAsync(ModelCaller caller, long tokens, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        if (now.UtcTicks < Volatile.Read(ref uncheckedUntil))
        {
            metrics.RateLimitFailedOpen(caller.TenantId);
            return RateLimitAdmission.Unchecked(this);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var (tenantLimits, callerLimits) = options.CurrentValue.For(caller.TenantId);
        var windowStart = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % WindowLength.Ticks), TimeSpan.Zero);
        var resetsIn = windowStart + WindowLength - now;
        var window = resetsIn + SettlementGrace;
        var (callerId, callerKind, callerName) = CallerOf(caller);
        var checks = new List<Check>(4);
        AddChecks(checks, "tenant", "tenant", caller.TenantId, tenantLimits, tokens);
        AddChecks(checks, callerId, callerKind, callerName, callerLimits, tokens);

        var taken = new List<TakenCounter>(checks.Count);
        var results = new List<(Check Check, long Used)>(checks.Count);
        try
        {
            foreach (var check in checks)
            {
                var key = $"{KeyPrefix}{caller.TenantId}:{check.Subject}:{check.Type}:{windowStart.UtcTicks / WindowLength.Ticks}";
                var reservation = await store.TryIncrementWithinAsync(key, check.Amount, check.Limit, window, CancellationToken.None).WithTimeout(governanceOptions.CurrentValue.StoreTimeout, timeProvider);
                if (!reservation.Allowed)
                {
                    await ReleaseAsync(taken);
                    var refusal = Refuse(check, reservation.Value, resetsIn, Headers(results.Append((check, reservation.Value)), resetsIn));
                    return new RateLimitAdmission(this, [], new Dictionary<string, string>(), refusal);
                }

                taken.Add(new TakenCounter(key, check.Type, check.Amount, window));
                results.Add((check, reservation.Value));
            }
        }
        catch (Exception exception)
        {
            Volatile.Write(ref uncheckedUntil, now.UtcTicks + options.CurrentValue.FailOpenDuration.Ticks);
            LogFailingOpen(logger, exception, options.CurrentValue.FailOpenDuration);
            await ReleaseAsync(taken);
            metrics.RateLimitFailedOpen(caller.TenantId);
            return RateLimitAdmission.Unchecked(this);
        }

        // The headers as they read after a release are needed only when a later check refuses the call.
        return new RateLimitAdmission(this, taken, Headers(results, resetsIn), null)
        {
            Released = () => Headers(results.Select(result => (result.Check, result.Used - result.Check.Amount)), resetsIn),
        };
    }

    /// <summary>Adds each delta to its counter, logging rather than throwing when the store fails.</summary>
    internal async ValueTask AdjustAsync(IEnumerable<(TakenCounter Counter, long Delta)> adjustments)
    {
        foreach (var (counter, delta) in adjustments)
        {
            if (delta == 0)
            {
                continue;
            }

            try
            {
                await store.IncrementAsync(counter.Key, delta, counter.Window, CancellationToken.None).WithTimeout(governanceOptions.CurrentValue.StoreTimeout, timeProvider);
            }
            catch (Exception exception)
            {
                LogAdjustFailed(logger, exception, counter.Key);
            }
        }
    }

    private ValueTask ReleaseAsync(IEnumerable<TakenCounter> taken) => AdjustAsync(taken.Select(counter => (counter, -counter.Amount)));


    /// <summary>
    /// The caller a per-caller limit counts: the API key when the call came with one, else the user the call is
    /// charged to — the token's subject for a user, the user a service acts for (so every task of the platform's
    /// Worker counts against its submitter, not all of them against one <c>service:worker</c>) — else the subject.
    /// </summary>
    private static (string Id, string Kind, string Name) CallerOf(ModelCaller caller) =>
        caller.ApiKeyId is not null ? ($"key:{caller.ApiKeyId}", "API key", caller.ApiKeyId)
        : caller.UserId is not null ? ($"user:{caller.UserId}", "user", caller.UserId)
        : ($"subject:{caller.Subject}", "caller", caller.Subject);

    private static void AddChecks(List<Check> checks, string subject, string kind, string name, RateLimitSettings limits, long tokens)
    {
        if (limits.RequestsPerMinute is { } requests)
        {
            checks.Add(new Check(subject, kind, name, RequestsType, 1, requests));
        }

        if (limits.TokensPerMinute is { } tokensPerMinute && tokens > 0)
        {
            checks.Add(new Check(subject, kind, name, TokensType, tokens, tokensPerMinute));
        }
    }

    private static ModelCallRefusal Refuse(Check check, long used, TimeSpan resetsIn, Dictionary<string, string> headers)
    {
        var unit = check.Type == RequestsType ? "requests per minute (RPM)" : "tokens per minute (TPM)";
        if (check.Amount > check.Limit)
        {
            return new ModelCallRefusal(
                429,
                check.Type,
                RateLimitCode,
                $"This call may use up to {check.Amount} tokens, more than the limit of {check.Limit} {unit} of {check.Description}. Lower max_tokens or shorten the input.",
                null) { Headers = headers };
        }

        return new ModelCallRefusal(
            429,
            check.Type,
            RateLimitCode,
            $"Rate limit reached for {unit} of {check.Description}: limit {check.Limit}, used {used}, requested {check.Amount}. Please try again in {FormatDuration(resetsIn)}.",
            resetsIn) { Headers = headers };
    }

    /// <summary>OpenAI's <c>x-ratelimit-*</c> headers, reporting for each type the limit with the least room left.</summary>
    // Written on every admitted call, so without grouping or composing header names.
    private static Dictionary<string, string> Headers(IEnumerable<(Check Check, long Used)> results, TimeSpan resetsIn)
    {
        (Check Check, long Used)? requests = null, tokens = null;
        foreach (var result in results)
        {
            ref var tightest = ref result.Check.Type == RequestsType ? ref requests : ref tokens;
            if (tightest is not { } current || result.Check.Limit - result.Used < current.Check.Limit - current.Used)
            {
                tightest = result;
            }
        }

        var headers = new Dictionary<string, string>(6, StringComparer.OrdinalIgnoreCase);
        var reset = requests is not null || tokens is not null ? FormatDuration(resetsIn) : "";
        if (requests is { } r)
        {
            headers["x-ratelimit-limit-requests"] = r.Check.Limit.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-requests"] = Math.Max(0, r.Check.Limit - r.Used).ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-requests"] = reset;
        }

        if (tokens is { } t)
        {
            headers["x-ratelimit-limit-tokens"] = t.Check.Limit.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-tokens"] = Math.Max(0, t.Check.Limit - t.Used).ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-tokens"] = reset;
        }

        return headers;
    }

    /// <summary>A duration the way OpenAI writes it in <c>x-ratelimit-reset-*</c>: <c>250ms</c>, <c>12.5s</c>, <c>1m0s</c>.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return $"{Math.Ceiling(Math.Max(0, duration.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)}ms";
        }

        var seconds = Math.Round(duration.TotalSeconds % 60, 3).ToString("0.###", CultureInfo.InvariantCulture);
        return duration < TimeSpan.FromMinutes(1) ? $"{seconds}s" : $"{(int)duration.TotalMinutes}m{seconds}s";
    }

    private sealed record Check(string Subject, string Kind, string Name, string Type, long Amount, long Limit)
    {
        /// <summary>Whose limit it is, for a refusal's message: <c>the API key 'k1'</c>.</summary>
        public string Description => $"the {Kind} '{Name}'";
    }

    [LoggerMessage(LogLevel.Warning, "The counters store failed a model rate limit check; calls pass without rate limits for {Duration}.")]
    private static partial void LogFailingOpen(ILogger logger, Exception exception, TimeSpan duration);

    [LoggerMessage(LogLevel.Warning, "Could not adjust the rate limit counter {Key}.")]
    private static partial void LogAdjustFailed(ILogger logger, Exception exception, string key);
}

/// <summary>A rate-limit counter a call has taken from, to give back or settle.</summary>
internal sealed record TakenCounter(string Key, string Type, long Amount, TimeSpan Window);

/// <summary>What the rate limits said: a refusal, or the counters taken and the headers to answer with.</summary>
public sealed class RateLimitAdmission
{
    private readonly ModelRateLimiter limiter;
    private readonly IReadOnlyList<TakenCounter> taken;

    internal RateLimitAdmission(ModelRateLimiter limiter, IReadOnlyList<TakenCounter> taken, IReadOnlyDictionary<string, string> headers, ModelCallRefusal? refusal)
    {
        this.limiter = limiter;
        this.taken = taken;
        Headers = headers;
        Refusal = refusal;
    }

    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>The headers as they read once <see cref="ReleaseAsync"/> has given everything back.</summary>
    public IReadOnlyDictionary<string, string> ReleasedHeaders => Released?.Invoke() ?? new Dictionary<string, string>();

    internal Func<IReadOnlyDictionary<string, string>>? Released { get; init; }

    public ModelCallRefusal? Refusal { get; }

    internal static RateLimitAdmission Unchecked(ModelRateLimiter limiter) => new(limiter, [], new Dictionary<string, string>(), null);

    /// <summary>Gives everything back: the call was not sent.</summary>
    public ValueTask ReleaseAsync() => limiter.AdjustAsync(taken.Select(counter => (counter, -counter.Amount)));

    /// <summary>Settles the token counters from the estimate to the tokens the call really used.</summary>
    public ValueTask SettleTokensAsync(long actualTokens) => limiter.AdjustAsync(taken
        .Where(counter => counter.Type == ModelRateLimiter.TokensType)
        .Select(counter => (counter, actualTokens - counter.Amount)));
}
