namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// An admitted call's reservation: the worst-case cost held on every budget (grown while a stream outruns it) and
/// the rate-limit counters taken. Completing settles both to what the call really used; disposing without
/// completing gives everything back and records the call as cancelled. Either happens once.
/// </summary>
internal sealed class ModelCallLease(
    ModelCallRequest request,
    DateTimeOffset startedAt,
    long startTimestamp,
    IReadOnlyList<BudgetHold> holds,
    long reservedMicros,
    RateLimitAdmission rateLimits,
    ModelBudgetLedger ledger,
    ModelUsageRecorder recorder,
    int streamExtensionTokens,
    TimeProvider timeProvider) : IModelCallLease
{
    /// <summary>What the client sees for a call it left before the end (nginx's "client closed request").</summary>
    public const int ClientClosedRequest = 499;

    private readonly SemaphoreSlim gate = new(1, 1);
    private long reserved = reservedMicros;
    private bool finished;

    public IReadOnlyDictionary<string, string> ResponseHeaders => rateLimits.Headers;

    /// <summary>The micro-units currently held on each budget.</summary>
    public long ReservedMicros => Interlocked.Read(ref reserved);

    public async ValueTask<bool> TryContinueAsync(long outputTokensSoFar, ModelPrice servingPrice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(servingPrice);
        if (holds.Count == 0)
        {
            return !Volatile.Read(ref finished);
        }

        var needed = servingPrice.CostMicros(request.EstimatedInputTokens, outputTokensSoFar, 0);
        if (needed <= ReservedMicros)
        {
            return !Volatile.Read(ref finished);
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            if (finished)
            {
                return false;
            }

            var shortfall = needed - reserved;
            if (shortfall <= 0)
            {
                return true;
            }

            // A chunk at a time, so a long stream asks the store every few hundred tokens, not every chunk; when the
            // chunk does not fit, the exact shortfall may still.
            var chunk = Math.Max(shortfall, servingPrice.CostMicros(0, streamExtensionTokens, 0));
            var reservation = await ledger.TryReserveAsync(holds, chunk);
            if (!reservation.Allowed && chunk > shortfall && !reservation.StoreUnavailable)
            {
                chunk = shortfall;
                reservation = await ledger.TryReserveAsync(holds, chunk);
            }

            if (!reservation.Allowed)
            {
                return false;
            }

            Interlocked.Add(ref reserved, chunk);
            return true;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask CompleteAsync(ModelCallResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);

        // Settlement and the usage record must happen even when the request is being aborted: the call's token is
        // deliberately not used past this point.
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            if (finished)
            {
                return;
            }

            finished = true;
            var cost = request.DryRun ? 0 : result.ServingPrice.CostMicros(result.InputTokens, result.OutputTokens, result.CachedInputTokens);
            await ledger.AdjustAsync(holds, cost - reserved);
            await rateLimits.SettleTokensAsync(request.DryRun ? 0 : result.InputTokens + result.OutputTokens);

            var record = ModelUsageRecorder.NewRecord(request, startedAt, result.Outcome, result.StatusCode);
            record.ModelServed = result.ModelServed;
            record.Deployment = result.Deployment;
            record.AttemptCount = result.Attempts.Count;
            record.Attempts = ModelUsageRecorder.AttemptsJson(result.Attempts);
            record.InputTokens = result.InputTokens;
            record.OutputTokens = result.OutputTokens;
            record.CachedInputTokens = result.CachedInputTokens;
            record.CostMicros = cost;
            record.LatencyMilliseconds = result.Latency.TotalMilliseconds;
            record.Offline = result.Offline;
            await recorder.RecordAsync(record);
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            if (finished)
            {
                return;
            }

            finished = true;
            await ledger.AdjustAsync(holds, -reserved);
            await rateLimits.SettleTokensAsync(0);

            var record = ModelUsageRecorder.NewRecord(request, startedAt, ModelOutcomes.Cancelled, ClientClosedRequest);
            record.LatencyMilliseconds = timeProvider.GetElapsedTime(startTimestamp).TotalMilliseconds;
            await recorder.RecordAsync(record);
        }
        finally
        {
            gate.Release();
        }
    }
}
