using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// Moves committed events from the outbox to the bus, in outbox order. One dispatcher per database holds the
/// lease <see cref="LeaseName"/>, so events reach the bus in the order they were written. A failed publish (the
/// bus is down) leaves the event in the outbox with a growing delay and stops there, so nothing overtakes it and
/// nothing is lost; dispatched events are purged after <see cref="OutboxDispatcherOptions.Retention"/>.
/// </summary>
/// <remarks>
/// Times that are stored (dispatched at, next attempt at, the retention cut-off) come from
/// <see cref="TimeProvider"/>; the polling cadence and the publish timeout are wall-clock pauses.
/// </remarks>
public sealed class OutboxDispatcher : BackgroundService
{
    public const string LeaseName = "outbox-dispatcher";

    private const int MaxErrorLength = 2000;
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    private readonly IServiceScopeFactory scopeFactory;
    private readonly IEventTransport transport;
    private readonly DistributedLeaseManager leases;
    private readonly OutboxDispatcherOptions options;
    private readonly EventBusTelemetry telemetry;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<OutboxDispatcher> logger;
    // Keeps a pass started by the loop and one started by a caller (tests) from interleaving: they share the lease.
    private readonly SemaphoreSlim passGate = new(1, 1);
    private DateTime nextPurgeAt = DateTime.MinValue;

    internal OutboxDispatcher(
        IServiceScopeFactory scopeFactory,
        IEventTransport transport,
        DistributedLeaseManager leases,
        IOptions<OutboxDispatcherOptions> options,
        EventBusTelemetry telemetry,
        TimeProvider timeProvider,
        ILogger<OutboxDispatcher> logger)
    {
        this.scopeFactory = scopeFactory;
        this.transport = transport;
        this.leases = leases;
        this.options = options.Value;
        this.telemetry = telemetry;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    private static string Owner => DistributedLeaseManager.ProcessOwner;

    /// <summary>
    /// One pass: publishes due events in outbox order until none is left or a publish fails, and returns how many
    /// were published. Publishes nothing while another instance holds the dispatcher lease.
    /// </summary>
    public async Task<int> DispatchPendingAsync(CancellationToken cancellationToken)
    {
        await passGate.WaitAsync(cancellationToken);
        try
        {
            var published = 0;
            while (await leases.TryAcquireAsync(LeaseName, Owner, options.LeaseDuration, cancellationToken))
            {
                var batch = await DispatchBatchAsync(cancellationToken);
                published += batch.Published;
                if (!batch.MayHaveMore)
                {
                    break;
                }
            }

            return published;
        }
        finally
        {
            passGate.Release();
        }
    }

    /// <summary>Deletes events dispatched longer ago than the retention period; returns how many.</summary>
    public async Task<int> PurgeDispatchedAsync(CancellationToken cancellationToken)
    {
        await using var scope = CreateSystemScope(out var db);
        var cutoff = timeProvider.GetUtcNow().UtcDateTime - options.Retention;
        return await db.OutboxMessages.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .Where(m => m.DispatchedAt != null && m.DispatchedAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
    }

    public override void Dispose()
    {
        passGate.Dispose();
        base.Dispose();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // So a standby instance takes over now rather than when the lease expires.
            await leases.ReleaseAsync(LeaseName, Owner, cancellationToken);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not release the outbox dispatcher lease; another instance takes over when it expires");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await DispatchPendingAsync(stoppingToken);
                    if (timeProvider.GetUtcNow().UtcDateTime >= nextPurgeAt)
                    {
                        var purged = await PurgeDispatchedAsync(stoppingToken);
                        nextPurgeAt = timeProvider.GetUtcNow().UtcDateTime + PurgeInterval;
                        logger.LogDebug("Purged {Count} dispatched outbox events", purged);
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // Typically the store is unreachable; the next tick tries again.
                    logger.LogError(exception, "Outbox dispatch pass failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<BatchOutcome> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = CreateSystemScope(out var db);
        var outbox = db.OutboxMessages.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]);
        var now = timeProvider.GetUtcNow().UtcDateTime;

        var pending = await outbox.AsNoTracking()
            .Where(m => m.DispatchedAt == null)
            .OrderBy(m => m.Sequence)
            .Take(options.BatchSize)
            .ToListAsync(cancellationToken);
        telemetry.ObserveLag(pending.Count == 0 ? TimeSpan.Zero : now - pending[0].OccurredAt);

        // An event waiting for its retry blocks everything behind it: nothing may overtake it.
        var due = pending.TakeWhile(m => m.NextAttemptAt is null || m.NextAttemptAt <= now).ToList();
        if (due.Count == 0)
        {
            return new BatchOutcome(0, MayHaveMore: false);
        }

        PublishResult result;
        using (var publishTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            publishTimeout.CancelAfter(options.PublishTimeout);
            result = await transport.PublishAsync(due.Select(m => m.ToEnvelope()).ToList(), publishTimeout.Token);
        }

        // Recorded even when stopping: a published event left unmarked would only be published twice.
        var completedAt = timeProvider.GetUtcNow().UtcDateTime;
        if (result.Published > 0)
        {
            var sequences = due.Take(result.Published).Select(m => m.Sequence).ToList();
            await outbox.Where(m => sequences.Contains(m.Sequence))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(m => m.DispatchedAt, completedAt)
                    .SetProperty(m => m.NextAttemptAt, (DateTime?)null), CancellationToken.None);
            telemetry.Published(result.Published);
        }

        if (result.Failure is { } failure && !cancellationToken.IsCancellationRequested)
        {
            var failed = due[result.Published];
            var attempts = failed.Attempts + 1;
            var retryAt = completedAt + RetryDelay(attempts);
            var error = $"{failure.GetType().FullName}: {failure.Message}";
            await outbox.Where(m => m.Sequence == failed.Sequence)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(m => m.Attempts, m => m.Attempts + 1)
                    .SetProperty(m => m.LastError, error.Length <= MaxErrorLength ? error : error[..MaxErrorLength])
                    .SetProperty(m => m.NextAttemptAt, retryAt), CancellationToken.None);
            telemetry.PublishFailed();
            logger.LogWarning(failure, "Could not publish {EventType} event {EventId} to {Topic} (attempt {Attempts}); it and every later event wait until {RetryAt:O}",
                failed.Type, failed.EventId, failed.Topic, attempts, retryAt);
        }

        return new BatchOutcome(result.Published, MayHaveMore: result.Failure is null && due.Count == options.BatchSize);
    }

    private TimeSpan RetryDelay(int attempts)
    {
        var delay = options.RetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return delay < options.MaxRetryDelay ? delay : options.MaxRetryDelay;
    }

    private AsyncServiceScope CreateSystemScope(out AgentPlatformDbContext db)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return scope;
    }

    private readonly record struct BatchOutcome(int Published, bool MayHaveMore);
}
