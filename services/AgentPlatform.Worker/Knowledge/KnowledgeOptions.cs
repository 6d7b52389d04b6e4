using System.ComponentModel.DataAnnotations;
using AgentPlatform.Infrastructure.Knowledge;

namespace AgentPlatform.Worker.Knowledge;

/// <summary>How the Worker indexes and searches knowledge documents (section <c>Knowledge</c>).</summary>
public sealed class KnowledgeOptions
{
    public const string SectionName = "Knowledge";

    /// <summary>How often an idle indexer looks for pending documents.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claimed document stays this Worker's without a renewal (renewed after each embedding batch, so it
    /// must outlast one batch's call); a crashed Worker's document is retried after it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts at indexing a document before it is marked <c>failed</c>.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The wait before a failed attempt is retried, times the number of attempts so far.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Chunks embedded per model call.</summary>
    [Range(1, 2048)]
    public int EmbeddingBatchSize { get; set; } = 32;

    /// <summary>Documents one Worker indexes at the same time.</summary>
    [Range(1, 64)]
    public int MaxConcurrentDocuments { get; set; } = 2;

    /// <summary>The most hits one search may ask for.</summary>
    [Range(1, 200)]
    public int MaxSearchResults { get; set; } = 50;

    /// <summary>Chunk sizes, in tokens (defaults: about 400, at most 500, 50 of overlap).</summary>
    public TextChunkerOptions Chunking { get; set; } = new();
}
