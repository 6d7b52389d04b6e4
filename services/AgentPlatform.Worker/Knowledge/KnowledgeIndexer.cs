using System.Diagnostics;
using System.Text;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Worker.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Worker.Knowledge;

/// <summary>How one indexing attempt ended.</summary>
public enum IndexingOutcome
{
    /// <summary>The chunks are stored and the document is <c>indexed</c>.</summary>
    Indexed,

    /// <summary>The attempt failed; the document is <c>pending</c> for a retry, or <c>failed</c> after its last attempt.</summary>
    Failed,

    /// <summary>Nothing was stored: the document was deleted, or another Worker holds it now.</summary>
    Abandoned,
}

/// <summary>
/// Indexes one claimed knowledge document: reads its text (inline or from the claim check), splits it with the
/// <see cref="TextChunker"/>, embeds the chunks in batches through the registered
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (inside a <see cref="ModelCallScope"/> for the document's
/// tenant, charged to its creator, with the document id as task id), and stores the chunks together with the status
/// <c>indexed</c> in one transaction, only while this Worker still holds the document's lease.
/// </summary>
public sealed partial class KnowledgeIndexer(
    KnowledgeLeases leases,
    TextChunker chunker,
    IEmbeddingGenerator<string, Embedding<float>> embeddings,
    IServiceScopeFactory scopeFactory,
    IOptionsMonitor<KnowledgeOptions> options,
    IOptionsMonitor<AgentModelOptions> models,
    ILogger<KnowledgeIndexer> logger)
{
    /// <summary>The main-agent id the indexer's model calls carry: platform work for the tenant, not a task's agent.</summary>
    public const string MainAgentId = "knowledge-indexer";

    public async Task<IndexingOutcome> IndexAsync(ClaimedDocument claimed, string owner, CancellationToken cancellationToken)
    {
        using var span = KnowledgeTelemetry.Source.StartActivity("knowledge index");
        span?.SetTag(PlatformTags.TenantId, claimed.TenantId).SetTag("agentplatform.knowledge.document_id", claimed.Id.ToString())
            .SetTag("agentplatform.knowledge.attempt", claimed.Attempt);
        using var logScope = logger.BeginScope(new Dictionary<string, object>
        {
            [PlatformTags.TenantId] = claimed.TenantId,
            ["document_id"] = claimed.Id,
        });

        var maxAttempts = options.CurrentValue.MaxAttempts;
        if (claimed.Attempt > maxAttempts)
        {
            // Every earlier attempt ended without recording anything: its Worker crashed or hung past its lease.
            // This claim is no attempt of its own: the count stays at the attempts that were made.
            await leases.RecordFailureAsync(
                claimed.Id, owner, claimed.Attempt - 1, $"Indexing did not finish in {maxAttempts} attempts: the Worker running it stopped each time.", final: true, cancellationToken);
            span?.SetStatus(ActivityStatusCode.Error);
            return IndexingOutcome.Failed;
        }

        try
        {
            var outcome = await IndexOnceAsync(claimed, owner, cancellationToken);
            span?.SetTag("agentplatform.knowledge.outcome", outcome.ToString());
            return outcome;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var final = exception is DocumentUnusableException || claimed.Attempt >= maxAttempts;
            LogAttemptFailed(logger, exception, claimed.Id, claimed.Attempt, final);
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            await leases.RecordFailureAsync(claimed.Id, owner, claimed.Attempt, Describe(exception), final, CancellationToken.None);
            return IndexingOutcome.Failed;
        }
    }

    private async Task<IndexingOutcome> IndexOnceAsync(ClaimedDocument claimed, string owner, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(claimed.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var document = await KnowledgeLeases.Held(db, claimed.Id, owner).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if (document is null)
        {
            return IndexingOutcome.Abandoned;
        }

        var text = await ReadTextAsync(document, scope.ServiceProvider.GetRequiredService<IPayloadStore>(), cancellationToken);
        var chunks = chunker.Split(text, options.CurrentValue.Chunking);
        if (chunks.Count == 0)
        {
            throw new DocumentUnusableException("The document has no text to index.");
        }

        var vectors = new List<Embedding<float>>(chunks.Count);
        using (ModelCallScope.Begin(document.TenantId, document.ChargedUserId, document.Id, MainAgentId))
        {
            foreach (var batch in chunks.Chunk(options.CurrentValue.EmbeddingBatchSize))
            {
                var generated = await embeddings.GenerateAsync(batch.Select(c => c.Text), cancellationToken: cancellationToken);
                if (generated.Count != batch.Length)
                {
                    throw new InvalidOperationException($"The embedding model returned {generated.Count} embeddings for {batch.Length} chunks.");
                }

                vectors.AddRange(generated);
                if (!await leases.RenewAsync(document.Id, owner, cancellationToken))
                {
                    return IndexingOutcome.Abandoned;
                }
            }
        }

        var model = vectors[0].ModelId ?? models.CurrentValue.EmbeddingModel;
        if (vectors.Any(v => (v.ModelId ?? models.CurrentValue.EmbeddingModel) != model || v.Vector.Length != vectors[0].Vector.Length || v.Vector.IsEmpty))
        {
            // A route that fell back to another model mid-document: vectors of two models cannot be searched together.
            throw new InvalidOperationException("The embeddings of one document came from different models or differ in size; retrying.");
        }

        var records = chunks.Select((chunk, i) => new KnowledgeChunkRecord
        {
            Id = Guid.CreateVersion7(),
            DocumentId = document.Id,
            Ordinal = chunk.Ordinal,
            Text = chunk.Text,
            TokenCount = chunk.TokenCount,
            EmbeddingModel = model,
            Embedding = vectors[i].Vector,
        }).ToList();
        return await StoreAsync(db, scope.ServiceProvider.GetRequiredService<KnowledgeChunkCollection>(), document.Id, owner, records, model, cancellationToken);
    }

    /// <summary>
    /// Replaces the document's chunks and marks it <c>indexed</c> in one transaction, which commits only while this
    /// Worker holds the lease: a search sees all of a document's chunks or none, and a Worker that lost the document
    /// stores nothing.
    /// </summary>
    private async Task<IndexingOutcome> StoreAsync(
        AgentPlatformDbContext db, KnowledgeChunkCollection collection, Guid documentId, string owner, List<KnowledgeChunkRecord> records, string model, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.KnowledgeChunks.Where(c => c.DocumentId == documentId).ExecuteDeleteAsync(cancellationToken);
            await collection.UpsertAsync(records, cancellationToken);
            var now = leases.Now();
            var marked = await KnowledgeLeases.Held(db, documentId, owner).ExecuteUpdateAsync(set => set
                .SetProperty(d => d.Status, KnowledgeDocumentStatuses.Indexed)
                .SetProperty(d => d.ChunkCount, records.Count)
                .SetProperty(d => d.EmbeddingModel, model)
                .SetProperty(d => d.Error, (string?)null)
                .SetProperty(d => d.IndexedAt, now)
                .SetProperty(d => d.UpdatedAt, now)
                .SetProperty(d => d.LeaseOwner, (string?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null), cancellationToken);
            if (marked == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return IndexingOutcome.Abandoned;
            }

            await transaction.CommitAsync(cancellationToken);
            LogIndexed(logger, documentId, records.Count, model);
            return IndexingOutcome.Indexed;
        }
        catch (Exception exception) when (exception is VectorStoreException or DbUpdateException)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            // Deleted while it was being indexed (its chunks had no document to belong to): nothing to do.
            if (!await db.KnowledgeDocuments.AnyAsync(d => d.Id == documentId, cancellationToken))
            {
                return IndexingOutcome.Abandoned;
            }

            throw;
        }
    }

    private static async Task<string> ReadTextAsync(KnowledgeDocument document, IPayloadStore payloads, CancellationToken cancellationToken)
    {
        if (document.Content is { } inline)
        {
            return inline;
        }

        await using var payload = await payloads.OpenReadAsync(document.ContentRefId!, cancellationToken)
            ?? throw new DocumentUnusableException($"The document's text (claim-check payload {document.ContentRefId}) has expired or is gone; add the document again.");
        using var reader = new StreamReader(payload.Content, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    private static string Describe(Exception exception) =>
        exception is DocumentUnusableException ? exception.Message : $"{exception.GetType().Name}: {exception.Message}";

    /// <summary>A document that no retry can index.</summary>
    private sealed class DocumentUnusableException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Knowledge document {DocumentId} indexed: {ChunkCount} chunk(s) embedded with {Model}")]
    private static partial void LogIndexed(ILogger logger, Guid documentId, int chunkCount, string model);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Knowledge document {DocumentId}: indexing attempt {Attempt} failed (final: {Final})")]
    private static partial void LogAttemptFailed(ILogger logger, Exception exception, Guid documentId, int attempt, bool final);
}
