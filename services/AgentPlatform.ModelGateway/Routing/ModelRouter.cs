using AgentPlatform.Domain.Models;
using System.Diagnostics;
using System.Globalization;
using AgentPlatform.ModelGateway.Governance;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>A deployment to try, and the route that listed it (the asked route or one of its fallbacks).</summary>
public sealed record RouteCandidate(string RouteAlias, ModelDeploymentDefinition Deployment);

/// <summary>Every deployment a call may use, in the order it will try them, and the highest price among them.</summary>
public sealed record RoutePlan(string Alias, IReadOnlyList<RouteCandidate> Candidates, ModelPrice WorstCasePrice);

/// <summary>Why a call could not be served, in the caller's terms.</summary>
public sealed record RoutingError(int StatusCode, string Type, string Code, string Message, TimeSpan? RetryAfter = null);

/// <summary>The outcome of a routed call: the value of the attempt that succeeded, or the error for the caller.</summary>
public sealed class RoutedCall<T> : IDisposable
{
    internal RoutedCall(IReadOnlyList<ModelAttempt> attempts) => Attempts = attempts;

    public T? Value { get; internal init; }

    public RouteCandidate? ServedBy { get; internal init; }

    public RoutingError? Error { get; internal init; }

    public IReadOnlyList<ModelAttempt> Attempts { get; }

    /// <summary>
    /// The successful attempt's cancellation, for a stream that goes on after the first update. Its timer is
    /// stopped; re-arm it with the deployment's timeout to bound the silence between updates.
    /// </summary>
    public CancellationTokenSource? Cancellation { get; internal init; }

    public void Dispose() => Cancellation?.Dispose();
}

/// <summary>
/// Plans and runs a model call over a route's deployments and its fallback routes. Deployments are tried in the
/// route's strategy order, then each fallback route's; a deployment that failed in this call is never tried
/// again (whichever route lists it), one cooling down is skipped, one whose context window is too small for
/// the request is skipped before it is called. Errors and timeouts are retried on the same deployment up to
/// its <c>MaxRetries</c>; a 429 goes straight to the next deployment (retrying a rate-limited deployment only
/// burns the caller's time). Every attempt, skipped ones too, is recorded.
/// </summary>
public sealed class ModelRouter(ModelRouteCatalog catalog, DeploymentHealth health, TimeProvider timeProvider)
{
    /// <summary>How deep fallbacks of fallbacks are followed.</summary>
    public const int MaxFallbackDepth = 4;

    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(50);

    public async ValueTask<IReadOnlyDictionary<string, ModelRouteDefinition>> RoutesAsync(string tenantId, CancellationToken cancellationToken) =>
        await catalog.GetRoutesAsync(tenantId, cancellationToken);

    /// <summary>The plan for <paramref name="alias"/>, or the error for an unknown alias or an impossible forced fallback.</summary>
    public async ValueTask<(RoutePlan? Plan, RoutingError? Error)> PlanAsync(string tenantId, string alias, bool forceFallback, CancellationToken cancellationToken)
    {
        var routes = await catalog.GetRoutesAsync(tenantId, cancellationToken);
        if (!routes.TryGetValue(alias, out var route))
        {
            return (null, new RoutingError(404, "invalid_request_error", "model_not_found", $"The model '{alias}' does not exist or you do not have access to it."));
        }

        var candidates = new List<RouteCandidate>();
        if (!forceFallback)
        {
            candidates.AddRange(Order(route).Select(deployment => new RouteCandidate(route.Alias, deployment)));
        }

        var visited = new HashSet<string>(StringComparer.Ordinal) { route.Alias };
        var level = new List<ModelRouteDefinition> { route };
        for (var depth = 0; depth < MaxFallbackDepth && level.Count > 0; depth++)
        {
            var next = new List<ModelRouteDefinition>();
            foreach (var fallbackAlias in level.SelectMany(r => r.Fallbacks))
            {
                if (visited.Add(fallbackAlias) && routes.TryGetValue(fallbackAlias, out var fallback))
                {
                    candidates.AddRange(Order(fallback).Select(deployment => new RouteCandidate(fallback.Alias, deployment)));
                    next.Add(fallback);
                }
            }

            level = next;
        }

        if (candidates.Count == 0)
        {
            return forceFallback
                ? (null, new RoutingError(400, "invalid_request_error", "no_fallback", $"agentplatform.force_fallback: the route '{alias}' has no fallback with an enabled deployment."))
                : (null, new RoutingError(503, "server_error", "no_deployment", $"The route '{alias}' has no enabled deployment.", TimeSpan.FromSeconds(30)));
        }

        var worst = new ModelPrice(
            candidates.Max(c => c.Deployment.Price.InputMicros),
            candidates.Max(c => c.Deployment.Price.OutputMicros),
            candidates.Max(c => c.Deployment.Price.CachedInputMicros));
        return (new RoutePlan(alias, candidates, worst), null);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> on the plan's deployments until one succeeds; an attempt turns an answer
    /// into a failure by throwing <see cref="UpstreamFailureException"/>. With <paramref name="keepCancellation"/>
    /// the winning attempt's cancellation source is handed to the caller (streams) instead of being disposed.
    /// </summary>
    public async Task<RoutedCall<T>> ExecuteAsync<T>(
        RoutePlan plan,
        int estimatedInputTokens,
        Func<ModelDeploymentDefinition, CancellationToken, Task<T>> attempt,
        bool keepCancellation,
        CancellationToken cancellationToken)
    {
        var attempts = new List<ModelAttempt>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<UpstreamFailure>();
        DateTimeOffset? earliestCoolDownEnd = null;
        foreach (var candidate in plan.Candidates)
        {
            var deployment = candidate.Deployment;
            if (failed.Contains(deployment.Key))
            {
                continue;
            }

            if (health.CoolingDownUntil(deployment) is { } until)
            {
                attempts.Add(Skipped(candidate, ModelOutcomes.SkippedCoolingDown, $"cooling down until {until:O}"));
                earliestCoolDownEnd = earliestCoolDownEnd is null || until < earliestCoolDownEnd ? until : earliestCoolDownEnd;
                continue;
            }

            if (estimatedInputTokens > deployment.ContextWindow)
            {
                var tooLong = UpstreamFailure.ContextTooSmall(estimatedInputTokens, deployment.ContextWindow);
                attempts.Add(Skipped(candidate, tooLong.Outcome, tooLong.Message));
                failures.Add(tooLong);
                continue;
            }

            for (var retry = 0; ; retry++)
            {
                var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                cancellation.CancelAfter(deployment.Timeout);
                var started = Stopwatch.GetTimestamp();
                UpstreamFailure? failure;
                T value = default!;
                using (health.Begin(deployment))
                {
                    try
                    {
                        value = await attempt(deployment, cancellation.Token);
                        failure = null;
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        failure = UpstreamFailure.Timeout(deployment.Timeout);
                    }
                    catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is not OperationCanceledException)
                    {
                        failure = UpstreamFailure.From(exception);
                    }
                    catch
                    {
                        cancellation.Dispose();
                        throw;
                    }
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                if (failure is null)
                {
                    health.Recovered(deployment);
                    health.RecordLatency(deployment, elapsed);
                    attempts.Add(new ModelAttempt(candidate.RouteAlias, deployment.Name, deployment.Model, ModelOutcomes.Ok, 200, elapsed, null));
                    if (keepCancellation)
                    {
                        cancellation.CancelAfter(Timeout.InfiniteTimeSpan);
                    }
                    else
                    {
                        cancellation.Dispose();
                    }

                    return new RoutedCall<T>(attempts) { Value = value, ServedBy = candidate, Cancellation = keepCancellation ? cancellation : null };
                }

                cancellation.Dispose();
                attempts.Add(new ModelAttempt(candidate.RouteAlias, deployment.Name, deployment.Model, failure.Outcome, failure.StatusCode, elapsed, failure.Message));
                if (failure.Retryable && retry < deployment.MaxRetries)
                {
                    await Task.Delay(RetryBackoff * (retry + 1), timeProvider, cancellationToken);
                    continue;
                }

                failed.Add(deployment.Key);
                failures.Add(failure);
                if (failure.CoolsDown)
                {
                    health.CoolDown(deployment, failure.RetryAfter);
                }

                if (!failure.FallsBack)
                {
                    return new RoutedCall<T>(attempts)
                    {
                        Error = new RoutingError(failure.StatusCode ?? 400, "invalid_request_error", failure.UpstreamCode ?? "invalid_request", failure.Message),
                    };
                }

                break;
            }
        }

        return new RoutedCall<T>(attempts) { Error = Summarise(plan, failures, earliestCoolDownEnd) };
    }

    private RoutingError Summarise(RoutePlan plan, List<UpstreamFailure> failures, DateTimeOffset? earliestCoolDownEnd)
    {
        var untilCooled = earliestCoolDownEnd is { } end ? Max(end - timeProvider.GetUtcNow(), TimeSpan.FromSeconds(1)) : (TimeSpan?)null;
        if (failures.Count == 0)
        {
            return new RoutingError(503, "server_error", "deployments_cooling_down",
                $"Every deployment of '{plan.Alias}' and its fallbacks is cooling down after failures.", untilCooled);
        }

        if (failures.All(f => f.Outcome == ModelOutcomes.RateLimited))
        {
            var retryAfter = failures.Select(f => f.RetryAfter).OfType<TimeSpan>().DefaultIfEmpty(TimeSpan.FromSeconds(1)).Min();
            retryAfter = untilCooled is { } cooled && cooled < retryAfter ? cooled : retryAfter;
            return new RoutingError(429, "requests", "rate_limit_exceeded",
                $"Every deployment of '{plan.Alias}' and its fallbacks is rate limited.", Max(retryAfter, TimeSpan.FromSeconds(1)));
        }

        if (failures.All(f => f.Outcome == ModelOutcomes.ContextLengthExceeded))
        {
            return new RoutingError(400, "invalid_request_error", "context_length_exceeded",
                $"The request does not fit the context window of any deployment of '{plan.Alias}' or its fallbacks. {failures[^1].Message}");
        }

        if (failures.All(f => f.Outcome == ModelOutcomes.ContentFiltered))
        {
            return new RoutingError(400, "invalid_request_error", "content_filter",
                $"Every deployment of '{plan.Alias}' and its fallbacks refused the request under its content policy.");
        }

        if (failures.All(f => f.Outcome == ModelOutcomes.Timeout))
        {
            return new RoutingError(504, "server_error", "upstream_timeout", $"No deployment of '{plan.Alias}' or its fallbacks answered in time.");
        }

        var last = failures.Last(f => f.Outcome is ModelOutcomes.Error or ModelOutcomes.Timeout or ModelOutcomes.RateLimited);
        return new RoutingError(502, "server_error", "upstream_error",
            string.Create(CultureInfo.InvariantCulture, $"Every deployment of '{plan.Alias}' and its fallbacks failed; the last said: {last.Message}"));
    }

    private IEnumerable<ModelDeploymentDefinition> Order(ModelRouteDefinition route)
    {
        var enabled = route.Deployments.Where(d => d.Enabled).Select((deployment, index) => (deployment, index)).ToList();
        return route.Strategy switch
        {
            RouteStrategies.Weighted => WeightedShuffle(enabled.Select(e => e.deployment).ToList()),
            RouteStrategies.LowestLatency => enabled
                .OrderBy(e => health.LatencyMilliseconds(e.deployment) ?? 0)
                .ThenBy(e => e.deployment.Priority).ThenBy(e => e.index).Select(e => e.deployment),
            RouteStrategies.LeastBusy => enabled
                .OrderBy(e => health.InFlight(e.deployment))
                .ThenBy(e => e.deployment.Priority).ThenBy(e => e.index).Select(e => e.deployment),
            _ => enabled.OrderBy(e => e.deployment.Priority).ThenBy(e => e.index).Select(e => e.deployment),
        };
    }

    // Each pick takes a deployment with probability weight / remaining weight: the first pick spreads traffic
    // by weight, the rest give the fallback order within the route.
    private static List<ModelDeploymentDefinition> WeightedShuffle(List<ModelDeploymentDefinition> remaining)
    {
        var ordered = new List<ModelDeploymentDefinition>(remaining.Count);
        while (remaining.Count > 0)
        {
            var total = remaining.Sum(d => (long)Math.Max(d.Weight, 1));
            var pick = Random.Shared.NextInt64(total);
            var index = 0;
            for (; index < remaining.Count - 1; index++)
            {
                pick -= Math.Max(remaining[index].Weight, 1);
                if (pick < 0)
                {
                    break;
                }
            }

            ordered.Add(remaining[index]);
            remaining.RemoveAt(index);
        }

        return ordered;
    }

    private static ModelAttempt Skipped(RouteCandidate candidate, string outcome, string reason) =>
        new(candidate.RouteAlias, candidate.Deployment.Name, candidate.Deployment.Model, outcome, null, TimeSpan.Zero, reason);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
