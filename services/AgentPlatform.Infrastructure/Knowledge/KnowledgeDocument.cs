using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>
/// A knowledge document of a tenant: its text (inline, or a claim-check reference when it is large) and where its
/// indexing is. A Worker claims a <c>pending</c> document with a lease (<see cref="LeaseOwner"/> until
/// <see cref="LeaseExpiresAt"/>), splits it into <see cref="KnowledgeChunk"/>s, embeds them and stores them together
/// with the status <c>indexed</c>; a lease that is not renewed lets another Worker retry the document.
/// </summary>
public sealed class KnowledgeDocument : ITenantOwned
{
    public const int MaxTitleLength = 300;
    public const int MaxSourceLength = 2000;
    public const int MaxErrorLength = 4000;

    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public required string Title { get; set; }

    /// <summary>Where the text comes from (a URI or a label), shown with citations.</summary>
    public string? Source { get; set; }

    /// <summary><c>text/plain</c> or <c>text/markdown</c>.</summary>
    public required string ContentType { get; set; }

    /// <summary>Bytes of the text in UTF-8.</summary>
    public long Size { get; set; }

    /// <summary>SHA-256 of the text's UTF-8 bytes, lowercase hex.</summary>
    public required string Sha256 { get; set; }

    /// <summary>The text when it is at most the claim-check threshold; otherwise <see cref="ContentRefId"/>.</summary>
    public string? Content { get; set; }

    public string? ContentRefId { get; set; }

    /// <summary>One of <see cref="KnowledgeDocumentStatuses"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Why the last indexing attempt failed; cleared once the document is indexed.</summary>
    public string? Error { get; set; }

    public int ChunkCount { get; set; }

    /// <summary>The embedding model the chunks were embedded with (as the model gateway reported it).</summary>
    public string? EmbeddingModel { get; set; }

    /// <summary>How many times a Worker has started indexing the document.</summary>
    public int Attempts { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>A <c>pending</c> document whose last attempt failed is not claimed again before this time.</summary>
    public DateTime? RetryAt { get; set; }

    /// <summary>The creator's subject (user, client or API key).</summary>
    public required string CreatedBy { get; set; }

    /// <summary>The user the embedding calls are charged to: the creator, or the creator of the creating API key.</summary>
    public string? ChargedUserId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? IndexedAt { get; set; }
}

/// <summary>The life of a knowledge document: pending → indexing → indexed, or failed after its last attempt.</summary>
public static class KnowledgeDocumentStatuses
{
    public const string Pending = "pending";
    public const string Indexing = "indexing";
    public const string Indexed = "indexed";
    public const string Failed = "failed";

    public static IReadOnlyList<string> All { get; } = [Pending, Indexing, Indexed, Failed];
}

internal sealed class KnowledgeDocumentConfiguration : IEntityTypeConfiguration<KnowledgeDocument>
{
    public void Configure(EntityTypeBuilder<KnowledgeDocument> builder)
    {
        builder.ToTable("knowledge_documents");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Title).HasMaxLength(KnowledgeDocument.MaxTitleLength);
        builder.Property(d => d.Source).HasMaxLength(KnowledgeDocument.MaxSourceLength);
        builder.Property(d => d.ContentType).HasMaxLength(100);
        builder.Property(d => d.Sha256).HasMaxLength(64).IsFixedLength();
        builder.Property(d => d.ContentRefId).HasMaxLength(100);
        builder.Property(d => d.Status).HasMaxLength(20);
        builder.Property(d => d.Error).HasMaxLength(KnowledgeDocument.MaxErrorLength);
        builder.Property(d => d.EmbeddingModel).HasMaxLength(200);
        builder.Property(d => d.LeaseOwner).HasMaxLength(200);
        builder.Property(d => d.CreatedBy).HasMaxLength(200);
        builder.Property(d => d.ChargedUserId).HasMaxLength(100);
        builder.HasIndex(d => new { d.TenantId, d.CreatedAt });
        builder.HasIndex(d => new { d.TenantId, d.Status, d.CreatedAt });
        // The indexers' claim query: pending documents, and indexing ones whose lease has expired.
        builder.HasIndex(d => new { d.Status, d.LeaseExpiresAt });
    }
}
