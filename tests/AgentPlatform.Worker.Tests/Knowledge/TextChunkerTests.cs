using System.Text;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Tokens;

namespace AgentPlatform.Worker.Tests.Knowledge;

/// <summary>The chunker with the real o200k token counts: sizes, overlap, structure, and that no text is lost.</summary>
public sealed class TextChunkerTests
{
    private static readonly O200kTokenEstimator Tokens = new();
    private static readonly TextChunker Chunker = new(Tokens);
    private static readonly TextChunkerOptions Defaults = new();

    [Fact]
    public void A_short_text_is_one_chunk_with_its_token_count()
    {
        var chunks = Chunker.Split("  The quick brown fox jumps over the lazy dog.  \n");

        var chunk = Assert.Single(chunks);
        Assert.Equal(0, chunk.Ordinal);
        Assert.Equal("The quick brown fox jumps over the lazy dog.", chunk.Text);
        Assert.Equal(Tokens.CountTokens(chunk.Text), chunk.TokenCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\n \t \r\n")]
    public void Blank_text_has_no_chunks(string text) => Assert.Empty(Chunker.Split(text));

    [Fact]
    public void Long_prose_is_cut_at_paragraphs_into_chunks_of_the_target_size_that_overlap_by_whole_sentences()
    {
        var paragraphs = Enumerable.Range(0, 40).Select(p => Paragraph(p, sentences: 4)).ToList();
        var text = string.Join("\n\n", paragraphs);

        var chunks = Chunker.Split(text);

        Assert.InRange(chunks.Count, 4, 12);
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Ordinal));
        foreach (var chunk in chunks)
        {
            Assert.Equal(Tokens.CountTokens(chunk.Text), chunk.TokenCount);
            Assert.True(chunk.TokenCount <= Defaults.MaxTokens + 2, $"chunk {chunk.Ordinal} has {chunk.TokenCount} tokens");
        }

        foreach (var chunk in chunks.SkipLast(1))
        {
            Assert.True(chunk.TokenCount >= Defaults.TargetTokens - Defaults.OverlapTokens, $"chunk {chunk.Ordinal} has only {chunk.TokenCount} tokens");
            // Cut at a paragraph: the chunk ends where a paragraph of the text ends.
            Assert.Contains(paragraphs, p => chunk.Text.EndsWith(p, StringComparison.Ordinal));
        }

        for (var i = 1; i < chunks.Count; i++)
        {
            // The next chunk repeats whole sentences from the end of this one, no more than the overlap.
            var previous = chunks[i - 1].Text;
            var repeated = previous[previous.LastIndexOf(Sentences(chunks[i].Text)[0], StringComparison.Ordinal)..];
            Assert.StartsWith(repeated, chunks[i].Text, StringComparison.Ordinal);
            Assert.InRange(Tokens.CountTokens(repeated), 1, Defaults.OverlapTokens);
        }

        // Nothing is lost: every sentence of the text is in a chunk, and in order.
        var covered = chunks.SelectMany(c => Sentences(c.Text)).Distinct().ToList();
        Assert.Equal(Sentences(text), covered);
    }

    [Fact]
    public void A_paragraph_larger_than_a_chunk_is_split_between_sentences()
    {
        var paragraph = Paragraph(1, sentences: 80);

        var chunks = Chunker.Split(paragraph);

        Assert.True(chunks.Count >= 3);
        var sentences = Sentences(paragraph);
        foreach (var chunk in chunks)
        {
            Assert.True(chunk.TokenCount <= Defaults.MaxTokens + 2);
            // Every piece of every chunk is a whole sentence of the paragraph.
            Assert.All(Sentences(chunk.Text), s => Assert.Contains(s, sentences));
        }
    }

    [Fact]
    public void A_markdown_heading_starts_a_new_chunk_without_overlap_from_the_previous_section()
    {
        var first = $"# Billing\n\n{Paragraph(1, 8)}\n\n{Paragraph(2, 8)}";
        var second = $"## Refunds\n\n{Paragraph(3, 6)}";

        var chunks = Chunker.Split($"{first}\n\n{second}\n");

        Assert.Equal(2, chunks.Count);
        Assert.StartsWith("# Billing", chunks[0].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Refunds", chunks[0].Text, StringComparison.Ordinal);
        Assert.StartsWith("## Refunds\n\n", chunks[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Fenced_code_keeps_its_lines_and_indentation()
    {
        const string code = "```csharp\nvar a = b.c(); var d = e.f();\n    if (x) { return; }\n```";

        var chunk = Assert.Single(Chunker.Split($"Run this. Then stop.\n\n{code}\n\nDone."));

        Assert.Contains(code, chunk.Text, StringComparison.Ordinal);
        Assert.Equal($"Run this. Then stop.\n\n{code}\n\nDone.", chunk.Text);
    }

    [Fact]
    public void A_word_too_large_for_a_chunk_is_split_by_length_and_nothing_of_it_is_lost()
    {
        var blob = Convert.ToBase64String(Enumerable.Range(0, 6000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var options = new TextChunkerOptions { TargetTokens = 200, MaxTokens = 256, OverlapTokens = 0 };

        var chunks = Chunker.Split($"Key: {blob}", options);

        Assert.True(chunks.Count >= 4);
        Assert.All(chunks, c => Assert.True(c.TokenCount <= options.MaxTokens + 2, $"{c.TokenCount} tokens"));
        Assert.Equal($"Key: {blob}", string.Concat(chunks.Select(c => c.Text)).Replace(" ", "", StringComparison.Ordinal).Insert(4, " "));
    }

    [Fact]
    public void Text_without_spaces_or_sentence_ends_is_still_bounded()
    {
        var unspaced = string.Concat(Enumerable.Repeat("知识库文档需要被切分成较小的片段以便检索", 120));

        var chunks = Chunker.Split(unspaced, new TextChunkerOptions { TargetTokens = 100, MaxTokens = 128, OverlapTokens = 0 });

        Assert.True(chunks.Count > 1);
        Assert.All(chunks, c => Assert.True(c.TokenCount <= 130, $"{c.TokenCount} tokens"));
        Assert.Equal(unspaced, string.Concat(chunks.Select(c => c.Text)).Replace(" ", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(500, 400, 50)]
    [InlineData(400, 500, 300)]
    [InlineData(8, 500, 0)]
    public void Inconsistent_sizes_are_refused(int target, int max, int overlap) =>
        Assert.Throws<ArgumentException>(() => Chunker.Split("text", new TextChunkerOptions { TargetTokens = target, MaxTokens = max, OverlapTokens = overlap }));

    private static string Paragraph(int number, int sentences)
    {
        var topics = new[] { "invoices", "deployments", "refunds", "onboarding", "backups", "alerts", "contracts", "budgets" };
        var builder = new StringBuilder();
        for (var s = 0; s < sentences; s++)
        {
            if (s > 0)
            {
                builder.Append(' ');
            }

            var topic = topics[(number + s) % topics.Length];
            builder.Append($"Paragraph {number} sentence {s} explains how the team handles {topic} when the quarter closes and reviewers ask for evidence.");
        }

        return builder.ToString();
    }

    private static List<string> Sentences(string text) =>
        [.. text.Split(["\n\n", ". "], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.TrimEnd('.'))];
}
