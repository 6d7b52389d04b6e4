using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>
/// One passage of a <see cref="KnowledgeDocument"/> with its embedding. The vector is stored portably, as the
/// little-endian bytes of its <see cref="float"/>s (<see cref="EmbeddingBytes"/>), so SQLite and PostgreSQL keep the
/// same column; <see cref="KnowledgeChunkCollection"/> reads and writes it through Microsoft.Extensions.VectorData.
/// Chunks go with their document (the foreign key cascades).
/// </summary>
public sealed class KnowledgeChunk : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public Guid DocumentId { get; set; }

    /// <summary>The chunk's position in its document, from 0.</summary>
    public int Ordinal { get; set; }

    public required string Text { get; set; }

    public int TokenCount { get; set; }

    /// <summary>The embedding: <see cref="Dimensions"/> little-endian IEEE 754 singles.</summary>
    public required byte[] Embedding { get; set; }

    public int Dimensions { get; set; }

    /// <summary>The model that produced <see cref="Embedding"/>; vectors of different models are never compared.</summary>
    public required string EmbeddingModel { get; set; }

    public DateTime CreatedAt { get; set; }
}

internal sealed class KnowledgeChunkConfiguration : IEntityTypeConfiguration<KnowledgeChunk>
{
    public void Configure(EntityTypeBuilder<KnowledgeChunk> builder)
    {
        builder.ToTable("knowledge_chunks");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.EmbeddingModel).HasMaxLength(200);
        builder.HasOne<KnowledgeDocument>().WithMany().HasForeignKey(c => c.DocumentId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(c => new { c.DocumentId, c.Ordinal }).IsUnique();
        // A search reads the tenant's vectors of one model and size.
        builder.HasIndex(c => new { c.TenantId, c.EmbeddingModel, c.Dimensions });
    }
}
