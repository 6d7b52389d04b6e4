using System.Collections.Concurrent;
using AgentPlatform.Infrastructure.Leases;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Knowledge;

/// <summary>
/// Indexes pending knowledge documents: claims them with leases (<see cref="KnowledgeLeases"/>), indexes up to
/// <see cref="KnowledgeOptions.MaxConcurrentDocuments"/> at a time (<see cref="KnowledgeIndexer"/>), and hands the
/// ones in progress back when the Worker stops. Any number of Workers share the documents; a crashed Worker's
/// documents are retried when their leases expire.
/// </summary>
public sealed partial class KnowledgeIndexingService(
    KnowledgeLeases leases,
    KnowledgeIndexer indexer,
    IOptionsMonitor<KnowledgeOptions> options,
    ILogger<KnowledgeIndexingService> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> running = new();
    private readonly SemaphoreSlim finished = new(0);

    /// <summary>Who holds this indexer's leases: unique per indexer, even with several in one process.</summary>
    public string Owner { get; } = $"{DistributedLeaseManager.ProcessOwner}/knowledge/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var free = options.CurrentValue.MaxConcurrentDocuments - running.Count;
                var claimed = 0;
                if (free > 0)
                {
                    try
                    {
                        foreach (var document in await leases.ClaimAsync(Owner, free, [.. running.Keys], stoppingToken))
                        {
                            claimed++;
                            running[document.Id] = IndexAndForgetAsync(document, stoppingToken);
                        }
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        LogClaimFailed(logger, exception);
                    }
                }

                if (claimed == 0 || running.Count >= options.CurrentValue.MaxConcurrentDocuments)
                {
                    // Sleep until the poll interval passes or a slot frees up.
                    await finished.WaitAsync(options.CurrentValue.PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running.Values);
    }

    public override void Dispose()
    {
        finished.Dispose();
        base.Dispose();
    }

    private async Task IndexAndForgetAsync(ClaimedDocument document, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await indexer.IndexAsync(document, Owner, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            try
            {
                await leases.ReleaseAsync(document.Id, Owner, CancellationToken.None);
            }
            catch (Exception exception)
            {
                // The lease expires on its own; the document is retried then.
                LogClaimFailed(logger, exception);
            }
        }
        catch (Exception exception)
        {
            // Recording the outcome failed (the database went away): the lease expires and another attempt follows.
            LogIndexingFailed(logger, exception, document.Id);
        }
        finally
        {
            running.TryRemove(document.Id, out _);
            finished.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming or releasing knowledge documents failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Knowledge document {DocumentId}: indexing failed unexpectedly; it will be retried when its lease expires")]
    private static partial void LogIndexingFailed(ILogger logger, Exception exception, Guid documentId);
}
