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
/// queue to one writer that inserts them in batches (one prepared statement, one transaction per batch): a database round
/// trip per call would cost more than everything else the gateway does for it, and calls would queue behind
/// each other's inserts. The queue drains on shutdown; a crash loses at most the records of the batch being
/// gathered (<see cref="BatchWindow"/> of calls) — the money is not lost with them, because budgets are settled in the
/// counters store before the record is queued. When the queue is full, callers wait for room (back-pressure,
/// never a silent drop). A failed write is logged, never thrown: the call has happened.
/// </summary>
public sealed partial class ModelUsageRecorder : IHostedService, IAsyncDisposable
{
    /// <summary>Records queued at most; beyond that callers wait for room.</summary>
    public const int QueueCapacity = 10_000;

    /// <summary>Records inserted in one batch at most.</summary>
    public const int MaxBatchSize = 500;

    /// <summary>How long the writer gathers records after the first one arrives: one transaction per window, not per call.</summary>
    public static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(50);

    private const int MaxAttemptsJsonLength = 8000;
    private const int MaxErrorLength = 500;

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
        writer = new Lazy<Task>(StartWriter);
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
        if (queue.Writer.TryWrite(record))
        {
            return;
        }

        try
        {
            // Full: this caller waits for room (back-pressure) rather than lose the record or compete with the
            // writer for the database's write lock.
            await queue.Writer.WriteAsync(record);
        }
        catch (ChannelClosedException)
        {
            // Shutting down, the writer has drained: the record is written by its caller.
            using var database = new WriterDatabase(scopeFactory);
            Write([record], database);
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

    // The writer has a thread of its own: database drivers (SQLite's in particular) block even in their async
    // methods, and a thread-pool thread blocked for a batch would be taken from the requests (a 2-core machine
    // starts with 2 of them).
    private Task StartWriter()
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                WriteQueued();
                stopped.SetResult();
            }
            catch (Exception exception)
            {
                stopped.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "Model usage writer",
        };
        thread.Start();
        return stopped.Task;
    }

    private void WriteQueued()
    {
        // One context for the writer's life: a context per batch cost a twentieth of the gateway's allocations.
        using var database = new WriterDatabase(scopeFactory);
        var batch = new List<ModelUsageRecord>(MaxBatchSize);
        while (queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            // A transaction per call would cost more than the call's whole trip through the gateway. Nobody
            // waits for the write, so gathering for a moment costs the callers nothing.
            if (queue.Reader.Count < MaxBatchSize)
            {
                Thread.Sleep(BatchWindow);
            }

            while (batch.Count < MaxBatchSize && queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            Write(batch, database);
            batch.Clear();
        }
    }

    private void Write(List<ModelUsageRecord> records, WriterDatabase database)
    {
        try
        {
            BulkInsert.Insert(database.Context, records);
        }
        catch (Exception exception)
        {
            // The next batch starts with a fresh context.
            database.Reset();
            foreach (var record in records)
            {
                LogRecordFailed(logger, exception, record.TenantId, record.TraceId, record.Outcome);
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

    /// <summary>
    /// The writer's database context, kept across batches (it tracks nothing: <see cref="BulkInsert"/> bypasses the
    /// change tracker). Rows of every tenant go in one transaction: each row carries the tenant of the call it records,
    /// taken from the caller's validated token, so the insert needs no tenant scope of its own.
    /// </summary>
    private sealed class WriterDatabase(IServiceScopeFactory scopeFactory) : IDisposable
    {
        private IServiceScope? scope;
        private AgentPlatformDbContext? context;

        public AgentPlatformDbContext Context
        {
            get
            {
                if (context is null)
                {
                    scope = scopeFactory.CreateScope();
                    scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
                    context = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
                }

                return context;
            }
        }

        public void Reset()
        {
            scope?.Dispose();
            scope = null;
            context = null;
        }

        public void Dispose() => Reset();
    }

    private sealed record AttemptEntry(string Route, string Deployment, string Model, string Outcome, int? StatusCode, double DurationMs, string? Error);

    [LoggerMessage(LogLevel.Error, "The usage record of a model call (tenant {TenantId}, trace {TraceId}, outcome {Outcome}) could not be written.")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string tenantId, string? traceId, string outcome);
}
