using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>
/// The tenant's knowledge chunks as a Microsoft.Extensions.VectorData collection, over the relational store
/// (<see cref="KnowledgeChunk"/>, SQLite or PostgreSQL). It acts for the tenant of the unit of work it is resolved in:
/// every read, search and delete goes through the <see cref="AgentPlatformDbContext"/>'s tenant query filter, and an
/// upsert only attaches chunks to that tenant's documents. A unit of work without a tenant (anonymous or system) is
/// refused.
/// <para><b>Search is brute force:</b> it streams the tenant's vectors of the query's size (narrowed by the filter,
/// which runs in SQL) and keeps the best <c>skip + top</c> by cosine similarity, so memory stays small but every
/// search reads all candidate vectors — about 1.5 KB per 384-dimension chunk. That suits the embedded topology and
/// tenants with up to some tens of thousands of chunks. The production path for large corpora is PostgreSQL with
/// pgvector: a <c>vector</c> column with an HNSW index behind the same <see cref="VectorStoreCollection{TKey, TRecord}"/>
/// (<see cref="KnowledgeChunkRecord"/>'s attributes already describe that schema); pgvector is not available here.</para>
/// <para>The schema belongs to the platform's migrations: the collection always exists, and deleting it is refused
/// (delete documents instead, which removes their chunks).</para>
/// </summary>
[SuppressMessage("Naming", "CA1711", Justification = "A Microsoft.Extensions.VectorData collection, named like the connectors' (PostgresCollection, InMemoryCollection).")]
public sealed class KnowledgeChunkCollection : VectorStoreCollection<Guid, KnowledgeChunkRecord>
{
    public const string CollectionName = "knowledge_chunks";

    private const string SystemName = "agentplatform.relational";

    private static readonly MethodInfo[] OrderingMethods =
    [
        .. typeof(Queryable).GetMethods().Where(m => m.Name is nameof(Queryable.OrderBy) or nameof(Queryable.OrderByDescending)
            or nameof(Queryable.ThenBy) or nameof(Queryable.ThenByDescending) && m.GetParameters().Length == 2),
    ];

    private readonly AgentPlatformDbContext db;
    private readonly TimeProvider timeProvider;
    private readonly IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator;

    /// <param name="embeddingGenerator">
    /// When given, <see cref="SearchAsync{TInput}"/> also accepts a string and embeds it with this generator.
    /// </param>
    public KnowledgeChunkCollection(
        AgentPlatformDbContext db, TimeProvider timeProvider, IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null)
    {
        this.db = db;
        this.timeProvider = timeProvider;
        this.embeddingGenerator = embeddingGenerator;
    }

    public override string Name => CollectionName;

    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The knowledge chunks' table belongs to the platform's migrations; delete documents to remove their chunks.");

    public override async Task<KnowledgeChunkRecord?> GetAsync(Guid key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        var chunk = await Chunks().SingleOrDefaultAsync(c => c.Id == key, cancellationToken);
        return chunk is null ? null : ToRecord(chunk, options?.IncludeVectors == true);
    }

    public override async IAsyncEnumerable<KnowledgeChunkRecord> GetAsync(
        IEnumerable<Guid> keys, RecordRetrievalOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = keys.Distinct().ToList();
        if (ids.Count == 0)
        {
            yield break;
        }

        var includeVectors = options?.IncludeVectors == true;
        await foreach (var chunk in Chunks().Where(c => ids.Contains(c.Id)).OrderBy(c => c.DocumentId).ThenBy(c => c.Ordinal)
            .AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return ToRecord(chunk, includeVectors);
        }
    }

    public override async IAsyncEnumerable<KnowledgeChunkRecord> GetAsync(
        Expression<Func<KnowledgeChunkRecord, bool>> filter,
        int top,
        FilteredRecordRetrievalOptions<KnowledgeChunkRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options?.Skip ?? 0, nameof(options));

        var query = Chunks().Where(RecordFilter.Translate(filter));
        var sorts = options?.OrderBy?.Invoke(new FilteredRecordRetrievalOptions<KnowledgeChunkRecord>.OrderByDefinition()).Values ?? [];
        var ordered = sorts.Count == 0
            ? query.OrderBy(c => c.DocumentId).ThenBy(c => c.Ordinal)
            : ApplyOrdering(query, sorts);
        var includeVectors = options?.IncludeVectors == true;
        await foreach (var chunk in ordered.ThenBy(c => c.Id).Skip(options?.Skip ?? 0).Take(top).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            yield return ToRecord(chunk, includeVectors);
        }
    }

    public override async Task DeleteAsync(Guid key, CancellationToken cancellationToken = default) =>
        await Chunks().Where(c => c.Id == key).ExecuteDeleteAsync(cancellationToken);

    public override async Task DeleteAsync(IEnumerable<Guid> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = keys.Distinct().ToList();
        if (ids.Count > 0)
        {
            await Chunks().Where(c => ids.Contains(c.Id)).ExecuteDeleteAsync(cancellationToken);
        }
    }

    public override Task UpsertAsync(KnowledgeChunkRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync([record], cancellationToken);
    }

    /// <summary>
    /// Inserts new chunks and replaces existing ones (by id) in one save. Every chunk must belong to a document of the
    /// current tenant and carry an embedding. Saves the unit of work's other pending changes too, like any save.
    /// </summary>
    public override async Task UpsertAsync(IEnumerable<KnowledgeChunkRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var tenantId = RequireTenant();
        var batch = records.ToList();
        if (batch.Count == 0)
        {
            return;
        }

        foreach (var record in batch)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            if (record.Embedding.IsEmpty)
            {
                throw new ArgumentException($"Chunk {record.Id} has no embedding.", nameof(records));
            }

            if (string.IsNullOrWhiteSpace(record.EmbeddingModel))
            {
                throw new ArgumentException($"Chunk {record.Id} does not name its embedding model.", nameof(records));
            }
        }

        if (batch.Where(r => r.Id != Guid.Empty).GroupBy(r => r.Id).Any(g => g.Count() > 1))
        {
            throw new ArgumentException("A chunk id appears twice in one upsert.", nameof(records));
        }

        // The foreign key only proves a document exists; this proves it is the current tenant's.
        var documentIds = batch.Select(r => r.DocumentId).Distinct().ToList();
        var known = await db.KnowledgeDocuments.Where(d => documentIds.Contains(d.Id)).Select(d => d.Id).ToListAsync(cancellationToken);
        if (known.Count != documentIds.Count)
        {
            throw new VectorStoreException($"There is no knowledge document {documentIds.Except(known).First()} in tenant '{tenantId}'.")
            {
                VectorStoreSystemName = SystemName,
                CollectionName = CollectionName,
                OperationName = nameof(UpsertAsync),
            };
        }

        var ids = batch.Select(r => r.Id).ToList();
        var existing = await db.KnowledgeChunks.Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        foreach (var record in batch)
        {
            if (!existing.TryGetValue(record.Id, out var chunk))
            {
                chunk = new KnowledgeChunk
                {
                    Id = record.Id == Guid.Empty ? Guid.CreateVersion7(timeProvider.GetUtcNow()) : record.Id,
                    TenantId = tenantId,
                    Text = record.Text,
                    Embedding = [],
                    EmbeddingModel = record.EmbeddingModel,
                    CreatedAt = now,
                };
                record.Id = chunk.Id;
                db.KnowledgeChunks.Add(chunk);
            }

            chunk.DocumentId = record.DocumentId;
            chunk.Ordinal = record.Ordinal;
            chunk.Text = record.Text;
            chunk.TokenCount = record.TokenCount;
            chunk.Embedding = EmbeddingBytes.Encode(record.Embedding.Span);
            chunk.Dimensions = record.Embedding.Length;
            chunk.EmbeddingModel = record.EmbeddingModel;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The <paramref name="top"/> chunks most similar to <paramref name="searchValue"/> by cosine similarity (the score,
    /// higher is closer), best first. The value is a vector (<see cref="ReadOnlyMemory{T}"/> or array of
    /// <see cref="float"/>, or an <see cref="Embedding{T}"/>), or a string when the collection has an embedding
    /// generator. Only chunks with vectors of the same size are compared; narrow to one model with a filter on
    /// <see cref="KnowledgeChunkRecord.EmbeddingModel"/>. <see cref="VectorSearchOptions{TRecord}.Filter"/> runs in
    /// SQL; <see cref="VectorSearchOptions{TRecord}.ScoreThreshold"/> is a minimum similarity.
    /// </summary>
    public override async IAsyncEnumerable<VectorSearchResult<KnowledgeChunkRecord>> SearchAsync<TInput>(
        TInput searchValue,
        int top,
        VectorSearchOptions<KnowledgeChunkRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<KnowledgeChunkRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options));
        if (options.VectorProperty is { } vectorProperty && !IsEmbeddingProperty(vectorProperty))
        {
            throw new NotSupportedException($"A knowledge chunk has one vector, {nameof(KnowledgeChunkRecord.Embedding)}.");
        }

        var query = await ToVectorAsync(searchValue, cancellationToken);
        var dimensions = query.Length;
        var chunks = Chunks().Where(c => c.Dimensions == dimensions);
        if (options.Filter is { } filter)
        {
            chunks = chunks.Where(RecordFilter.Translate(filter));
        }

        // Min-heap of the best (skip + top): the worst of them is dropped first when a better one turns up.
        var keep = options.Skip + top;
        var best = new PriorityQueue<Guid, double>(keep + 1);
        var queryNorm = EmbeddingBytes.Norm(query.Span);
        await foreach (var candidate in chunks.Select(c => new { c.Id, c.Embedding }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var score = EmbeddingBytes.CosineSimilarity(query.Span, queryNorm, candidate.Embedding);
            if (options.ScoreThreshold is { } threshold && score < threshold)
            {
                continue;
            }

            if (best.Count < keep)
            {
                best.Enqueue(candidate.Id, score);
            }
            else if (best.TryPeek(out _, out var worst) && score > worst)
            {
                best.DequeueEnqueue(candidate.Id, score);
            }
        }

        var ranked = new List<(Guid Id, double Score)>(best.Count);
        while (best.TryDequeue(out var id, out var score))
        {
            ranked.Add((id, score));
        }

        ranked.Reverse();
        var winners = ranked.Skip(options.Skip).ToList();
        if (winners.Count == 0)
        {
            yield break;
        }

        var winnerIds = winners.Select(w => w.Id).ToList();
        var rows = await Chunks().Where(c => winnerIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, cancellationToken);
        foreach (var (id, score) in winners)
        {
            // A chunk deleted since it was scored is simply left out.
            if (rows.TryGetValue(id, out var chunk))
            {
                yield return new VectorSearchResult<KnowledgeChunkRecord>(ToRecord(chunk, options.IncludeVectors), score);
            }
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? new VectorStoreCollectionMetadata
            {
                VectorStoreSystemName = SystemName,
                VectorStoreName = db.Database.ProviderName,
                CollectionName = CollectionName,
            }
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private IQueryable<KnowledgeChunk> Chunks()
    {
        RequireTenant();
        return db.KnowledgeChunks.AsNoTracking();
    }

    private string RequireTenant() => db.TenantContext.TenantId
        ?? throw new TenantAccessException("Knowledge chunks belong to a tenant: use the collection in a unit of work that acts for one.");

    private async Task<ReadOnlyMemory<float>> ToVectorAsync<TInput>(TInput searchValue, CancellationToken cancellationToken)
    {
        var vector = searchValue switch
        {
            ReadOnlyMemory<float> memory => memory,
            float[] array => array,
            Embedding<float> embedding => embedding.Vector,
            string text when embeddingGenerator is not null => (await embeddingGenerator.GenerateAsync([text], cancellationToken: cancellationToken)).Single().Vector,
            string => throw new NotSupportedException("This collection has no embedding generator: search with a vector, or embed the text first."),
            _ => throw new NotSupportedException(
                $"Search with ReadOnlyMemory<float>, float[] or Embedding<float>{(embeddingGenerator is null ? "" : ", or a string")}, not {typeof(TInput).Name}."),
        };
        if (vector.IsEmpty)
        {
            throw new ArgumentException("The search vector is empty.", nameof(searchValue));
        }

        return vector;
    }

    private static bool IsEmbeddingProperty(Expression<Func<KnowledgeChunkRecord, object?>> selector)
    {
        var body = selector.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : selector.Body;
        return body is MemberExpression { Member.Name: nameof(KnowledgeChunkRecord.Embedding) } member && member.Expression == selector.Parameters[0];
    }

    private static IOrderedQueryable<KnowledgeChunk> ApplyOrdering(
        IQueryable<KnowledgeChunk> query, IReadOnlyList<FilteredRecordRetrievalOptions<KnowledgeChunkRecord>.OrderByDefinition.SortInfo> sorts)
    {
        var ordered = query;
        for (var i = 0; i < sorts.Count; i++)
        {
            var key = RecordFilter.TranslateKey(sorts[i].PropertySelector);
            var name = (i == 0, sorts[i].Ascending) switch
            {
                (true, true) => nameof(Queryable.OrderBy),
                (true, false) => nameof(Queryable.OrderByDescending),
                (false, true) => nameof(Queryable.ThenBy),
                (false, false) => nameof(Queryable.ThenByDescending),
            };
            var method = OrderingMethods.First(m => m.Name == name).MakeGenericMethod(typeof(KnowledgeChunk), key.ReturnType);
            ordered = (IQueryable<KnowledgeChunk>)method.Invoke(null, [ordered, key])!;
        }

        return (IOrderedQueryable<KnowledgeChunk>)ordered;
    }

    private static KnowledgeChunkRecord ToRecord(KnowledgeChunk chunk, bool includeVector) => new()
    {
        Id = chunk.Id,
        DocumentId = chunk.DocumentId,
        Ordinal = chunk.Ordinal,
        Text = chunk.Text,
        TokenCount = chunk.TokenCount,
        EmbeddingModel = chunk.EmbeddingModel,
        Embedding = includeVector ? EmbeddingBytes.Decode(chunk.Embedding) : ReadOnlyMemory<float>.Empty,
    };

    /// <summary>
    /// Rewrites an expression over <see cref="KnowledgeChunkRecord"/> into the same expression over
    /// <see cref="KnowledgeChunk"/> (the data properties share names and types), so EF Core runs it in SQL.
    /// </summary>
    private sealed class RecordFilter : ExpressionVisitor
    {
        private static readonly HashSet<string> DataProperties =
        [
            nameof(KnowledgeChunkRecord.Id), nameof(KnowledgeChunkRecord.DocumentId), nameof(KnowledgeChunkRecord.Ordinal),
            nameof(KnowledgeChunkRecord.Text), nameof(KnowledgeChunkRecord.TokenCount), nameof(KnowledgeChunkRecord.EmbeddingModel),
        ];

        private readonly ParameterExpression record;
        private readonly ParameterExpression chunk = Expression.Parameter(typeof(KnowledgeChunk), "chunk");

        private RecordFilter(ParameterExpression record) => this.record = record;

        public static Expression<Func<KnowledgeChunk, bool>> Translate(Expression<Func<KnowledgeChunkRecord, bool>> filter)
        {
            var visitor = new RecordFilter(filter.Parameters[0]);
            return Expression.Lambda<Func<KnowledgeChunk, bool>>(visitor.Visit(filter.Body), visitor.chunk);
        }

        /// <summary>A sort key, typed as the property it selects (without the selector's conversion to object).</summary>
        public static LambdaExpression TranslateKey(Expression<Func<KnowledgeChunkRecord, object?>> selector)
        {
            var visitor = new RecordFilter(selector.Parameters[0]);
            var body = selector.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : selector.Body;
            return Expression.Lambda(visitor.Visit(body), visitor.chunk);
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression != record)
            {
                return base.VisitMember(node);
            }

            if (!DataProperties.Contains(node.Member.Name))
            {
                throw new NotSupportedException($"Knowledge chunks cannot be filtered or sorted by {node.Member.Name}.");
            }

            return Expression.Property(chunk, node.Member.Name);
        }

        protected override Expression VisitParameter(ParameterExpression node) =>
            node == record
                ? throw new NotSupportedException("A knowledge chunk filter uses the record's data properties only.")
                : base.VisitParameter(node);
    }
}
