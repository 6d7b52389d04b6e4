using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Worker.Leasing;
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
    ILogger<KnowledgeIndexingService> logger) : LeasedWorkService<ClaimedDocument>
{
    /// <summary>Who holds this indexer's leases: unique per indexer, even with several in one process.</summary>
    public string Owner { get; } = $"{DistributedLeaseManager.ProcessOwner}/knowledge/{Guid.NewGuid():N}";

    protected override int MaxConcurrent => options.CurrentValue.MaxConcurrentDocuments;

    protected override TimeSpan PollInterval => options.CurrentValue.PollInterval;

    protected override Guid IdOf(ClaimedDocument document) => document.Id;

    protected override Task<IReadOnlyList<ClaimedDocument>> ClaimAsync(int max, IReadOnlyCollection<Guid> runningHere, CancellationToken cancellationToken) =>
        leases.ClaimAsync(Owner, max, runningHere, cancellationToken);

    protected override void OnClaimFailed(Exception exception) => LogClaimFailed(logger, exception);

    protected override async Task ProcessAsync(ClaimedDocument document, CancellationToken stoppingToken)
    {
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
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming or releasing knowledge documents failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Knowledge document {DocumentId}: indexing failed unexpectedly; it will be retried when its lease expires")]
    private static partial void LogIndexingFailed(ILogger logger, Exception exception, Guid documentId);
}
