using System.Text.Json.Serialization;
using AgentPlatform.Infrastructure.Knowledge;
using Microsoft.AspNetCore.Mvc;

namespace AgentPlatform.ControlPlane.Knowledge;

// Snake_case like the tasks API, whose claim-check field (content_ref_id) this API shares; list pages keep the
// envelope every list API shares (PagedResult).

/// <summary>
/// A knowledge document to add: its text inline (<c>content</c>) or as a claim-check reference
/// (<c>content_ref_id</c>), never both.
/// </summary>
public sealed record AddKnowledgeDocumentRequest(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("content")] string? Content,
    [property: JsonPropertyName("content_ref_id")] string? ContentRefId,
    [property: JsonPropertyName("content_type")] string? ContentType,
    [property: JsonPropertyName("source")] string? Source);

/// <summary>A knowledge document and where its indexing is; never its text.</summary>
public sealed record KnowledgeDocumentResponse(
    [property: JsonPropertyName("document_id")] Guid DocumentId,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("source")] string? Source,
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("content_ref_id")] string? ContentRefId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("chunk_count")] int ChunkCount,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("embedding_model")] string? EmbeddingModel,
    [property: JsonPropertyName("created_by")] string CreatedBy,
    [property: JsonPropertyName("created_at")] DateTime CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTime UpdatedAt,
    [property: JsonPropertyName("indexed_at")] DateTime? IndexedAt)
{
    public static KnowledgeDocumentResponse From(KnowledgeDocument document) => new(
        document.Id,
        document.Title,
        document.Source,
        document.ContentType,
        document.Size,
        document.Sha256,
        document.ContentRefId,
        document.Status,
        document.Error,
        document.ChunkCount,
        document.Attempts,
        document.EmbeddingModel,
        document.CreatedBy,
        document.CreatedAt,
        document.UpdatedAt,
        document.IndexedAt);
}

/// <summary>Which documents a list shows.</summary>
public sealed record KnowledgeDocumentQuery
{
    /// <summary>One or more statuses, repeated (<c>status=pending&amp;status=indexing</c>) or comma-separated.</summary>
    [FromQuery(Name = "status")]
    public string[]? Status { get; init; }
}
