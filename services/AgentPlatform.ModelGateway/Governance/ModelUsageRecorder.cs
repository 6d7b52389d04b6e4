using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>
/// Writes one <see cref="ModelUsageRecord"/> per call and the call's metrics. Records go through a bounded
/// queue to one writer that inserts them in batches (one transaction per tenant and batch): a database round
/// trip per call would cost more than everything else the gateway does for it, and calls would queue behind
/// each other's inserts. The queue drains on shutdown; a crash loses at most the records of the batch being
/// gathered (milliseconds of calls) — the money is not lost with them, because budgets are settled in the
/// counters store before the record is queued. When the queue is full, callers write their record themselves
/// (back-pressure, never a silent drop). A failed write is logged, never thrown: the call has happened.
/// </summary>
public sealed partial class ModelUsageRecorder : IHostedService, IAsyncDisposable
{
    /// <summary>Records queued at most; beyond that callers write their own.</summary>
    public const int QueueCapacity = 10_000;

    /// <summary>Records inserted in one batch at most.</summary>
    public const int MaxBatchSize = 500;

    private const int MaxAttemptsJsonLength = 8000;
    private const int MaxErrorLength = 500;
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions AttemptJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Channel<ModelUsageRecord> queue = Channel.CreateBounded<ModelUsageRecord>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly IServiceScopeFactory scopeFactory;
    private readonly ModelGatewayMetrics metrics;
    private readonly ILogger<ModelUsageRecorder> logger;
    private readonly Lazy<Task> writer;
    private long queued;
    private long written;

    public ModelUsageRecorder(IServiceScopeFactory scopeFactory, ModelGatewayMetrics metrics, ILogger<ModelUsageRecorder> logger)
    {
        this.scopeFactory = scopeFactory;
        this.metrics = metrics;
        this.logger = logger;
        writer = new Lazy<Task>(() => Task.Run(WriteQueuedAsync));
    }

    public async ValueTask RecordAsync(ModelUsageRecord record)
    {
        metrics.Recorded(
            record.TenantId,
            record.ModelServed ?? record.ModelRequested,
            record.Outcome,
            record.InputTokens,
            record.OutputTokens,
            record.CachedInputTokens,
            record.CostMicros,
            TimeSpan.FromMilliseconds(record.LatencyMilliseconds));

        Interlocked.Increment(ref queued);
        _ = writer.Value;
        if (!queue.Writer.TryWrite(record))
        {
            // Full (or shutting down): this caller waits for its own insert rather than lose the record.
            await WriteAsync([record]);
        }
    }

    /// <summary>Completes when every record queued before the call has been written (or has failed to be).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = Interlocked.Read(ref queued);
        while (Interlocked.Read(ref written) < target)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Drains the queue before the process stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        if (writer.IsValueCreated)
        {
            await writer.Value.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private async Task WriteQueuedAsync()
    {
        var batch = new List<ModelUsageRecord>(MaxBatchSize);
        while (await queue.Reader.WaitToReadAsync())
        {
            // Whatever queued up while the last batch was written goes in the next one: no timer, no added wait.
            while (batch.Count < MaxBatchSize && queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(List<ModelUsageRecord> records)
    {
        foreach (var tenant in records.GroupBy(r => r.TenantId, StringComparer.Ordinal))
        {
            try
            {
                using var timeout = new CancellationTokenSource(WriteTimeout);
                await using var scope = scopeFactory.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenant.Key);
                var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
                db.ModelUsage.AddRange(tenant);
                await db.SaveChangesAsync(timeout.Token);
            }
            catch (Exception exception)
            {
                foreach (var record in tenant)
                {
                    LogRecordFailed(logger, exception, record.TenantId, record.TraceId, record.Outcome);
                }
            }
        }

        Interlocked.Add(ref written, records.Count);
    }

    /// <summary>A usage record for <paramref name="request"/> with its caller's audit fields filled in.</summary>
    public static ModelUsageRecord NewRecord(ModelCallRequest request, DateTimeOffset startedAt, string outcome, int statusCode)
    {
        var caller = request.Caller;
        var utc = startedAt.UtcDateTime;
        return new ModelUsageRecord
        {
            Id = Guid.CreateVersion7(startedAt),
            TenantId = caller.TenantId,
            OccurredAt = utc,
            Day = DateOnly.FromDateTime(utc),
            Subject = caller.Subject,
            UserId = caller.UserId,
            ApiKeyId = caller.ApiKeyId,
            Operation = request.Operation,
            ModelRequested = request.ModelRequested,
            Streamed = request.Streamed,
            DryRun = request.DryRun,
            Attempts = "[]",
            Outcome = outcome,
            StatusCode = statusCode,
            TraceId = caller.TraceId ?? CurrentTraceId(),
            TaskId = caller.TaskId,
            MainAgentId = caller.MainAgentId,
            SubAgentId = caller.SubAgentId,
        };
    }

    /// <summary>
    /// The attempts as JSON for the usage record, within the column's size: long error texts are cut, and when
    /// there are still too many attempts the last ones are left out (<see cref="ModelUsageRecord.AttemptCount"/>
    /// keeps the real number).
    /// </summary>
    public static string AttemptsJson(IReadOnlyList<ModelAttempt> attempts)
    {
        var entries = attempts.Select(attempt => new AttemptEntry(
            attempt.Route,
            attempt.Deployment,
            attempt.Model,
            attempt.Outcome,
            attempt.StatusCode,
            Math.Round(attempt.Duration.TotalMilliseconds, 1),
            attempt.Error is { Length: > MaxErrorLength } error ? error[..MaxErrorLength] : attempt.Error)).ToList();
        while (true)
        {
            var json = JsonSerializer.Serialize(entries, AttemptJson);
            if (json.Length <= MaxAttemptsJsonLength || entries.Count == 0)
            {
                return json;
            }

            entries.RemoveAt(entries.Count - 1);
        }
    }

    private static string? CurrentTraceId() =>
        Activity.Current is { TraceId: var traceId } && traceId != default ? traceId.ToHexString() : null;

    private sealed record AttemptEntry(string Route, string Deployment, string Model, string Outcome, int? StatusCode, double DurationMs, string? Error);

    [LoggerMessage(LogLevel.Error, "The usage record of a model call (tenant {TenantId}, trace {TraceId}, outcome {Outcome}) could not be written.")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string tenantId, string? traceId, string outcome);
}
