using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>
/// A knowledge chunk as Microsoft.Extensions.VectorData sees it: the record of
/// <see cref="KnowledgeChunkCollection"/>. The attributes describe the schema for any connector that creates one
/// (a pgvector column would be <c>vector(384)</c> with a cosine index); the collection here stores vectors of any size
/// and only ever compares vectors of the same size (and, when the filter names one, the same model).
/// </summary>
public sealed class KnowledgeChunkRecord
{
    /// <summary>The size of the default embedding model's vectors (all-MiniLM-L6-v2 behind <c>text-embedding-default</c>).</summary>
    public const int DefaultDimensions = 384;

    [VectorStoreKey]
    public Guid Id { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public Guid DocumentId { get; set; }

    [VectorStoreData]
    public int Ordinal { get; set; }

    [VectorStoreData(IsFullTextIndexed = true)]
    public string Text { get; set; } = "";

    [VectorStoreData]
    public int TokenCount { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public string EmbeddingModel { get; set; } = "";

    /// <summary>Empty when a read did not ask for vectors (<c>IncludeVectors</c>).</summary>
    [VectorStoreVector(DefaultDimensions, DistanceFunction = DistanceFunction.CosineSimilarity)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}
