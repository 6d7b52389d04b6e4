using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Worker.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Worker.Knowledge;

/// <summary>
/// A passage of a knowledge document that matches a query, with what a citation needs: the document's id, title and
/// source, and the chunk's position in it. <see cref="Score"/> is the cosine similarity (higher is closer, at most 1).
/// </summary>
public sealed record KnowledgeHit(Guid ChunkId, Guid DocumentId, string Title, string? Source, int Ordinal, string Text, double Score);

/// <summary>
/// Searches a tenant's indexed knowledge documents for the retrieval sub-agent. The query is embedded through the
/// registered <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> — the same one, and so the same model alias, the
/// indexer used — and compared with the chunks embedded by the same model.
/// <para><b>The caller must already be inside a <see cref="ModelCallScope"/> for <c>tenantId</c></b> (the sub-agent's
/// run opens one): the query's embedding is a model call of that task, authenticated as its tenant and charged to its
/// user. A call outside one, or inside one for another tenant, is refused.</para>
/// </summary>
public sealed class KnowledgeSearch(
    IEmbeddingGenerator<string, Embedding<float>> embeddings,
    IServiceScopeFactory scopeFactory,
    IOptionsMonitor<KnowledgeOptions> options,
    IOptionsMonitor<AgentModelOptions> models)
{
    /// <summary>The <paramref name="top"/> passages closest to <paramref name="query"/>, best first (fewer when the tenant has fewer).</summary>
    /// <exception cref="InvalidOperationException">There is no <see cref="ModelCallScope"/> for <paramref name="tenantId"/>.</exception>
    public async Task<IReadOnlyList<KnowledgeHit>> SearchAsync(string tenantId, string query, int top, CancellationToken cancellationToken)
    {
        Domain.Tenancy.TenantId.Require(tenantId);
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, options.CurrentValue.MaxSearchResults);
        if (ModelCallScope.Current?.TenantId != tenantId)
        {
            throw new InvalidOperationException(
                $"Search the knowledge of tenant '{tenantId}' inside a ModelCallScope for that tenant: embedding the query is a model call of its task.");
        }

        var embedding = (await embeddings.GenerateAsync([query], cancellationToken: cancellationToken)).Single();
        var model = embedding.ModelId ?? models.CurrentValue.EmbeddingModel;

        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        var collection = scope.ServiceProvider.GetRequiredService<KnowledgeChunkCollection>();
        var matches = new List<VectorSearchResult<KnowledgeChunkRecord>>(top);
        await foreach (var match in collection.SearchAsync(embedding.Vector, top, new VectorSearchOptions<KnowledgeChunkRecord> { Filter = r => r.EmbeddingModel == model }, cancellationToken))
        {
            matches.Add(match);
        }

        if (matches.Count == 0)
        {
            return [];
        }

        var documentIds = matches.Select(m => m.Record.DocumentId).Distinct().ToList();
        var documents = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().KnowledgeDocuments.AsNoTracking()
            .Where(d => documentIds.Contains(d.Id))
            .Select(d => new { d.Id, d.Title, d.Source })
            .ToDictionaryAsync(d => d.Id, cancellationToken);

        // A document deleted since its chunks matched has no citation to give: it is left out.
        return [.. matches
            .Where(m => documents.ContainsKey(m.Record.DocumentId))
            .Select(m =>
            {
                var document = documents[m.Record.DocumentId];
                return new KnowledgeHit(m.Record.Id, document.Id, document.Title, document.Source, m.Record.Ordinal, m.Record.Text, m.Score ?? 0);
            })];
    }
}
