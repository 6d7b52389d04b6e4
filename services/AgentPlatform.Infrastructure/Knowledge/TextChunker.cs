using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.RegularExpressions;
using AgentPlatform.Infrastructure.Tokens;

namespace AgentPlatform.Infrastructure.Knowledge;

/// <summary>How <see cref="TextChunker"/> sizes chunks, in tokens of the shared <see cref="ITokenEstimator"/>.</summary>
public sealed class TextChunkerOptions
{
    /// <summary>A chunk this large ends at the next paragraph; smaller ones keep taking text up to <see cref="MaxTokens"/>.</summary>
    [Range(16, 8192)]
    public int TargetTokens { get; set; } = 400;

    /// <summary>No chunk is larger (give or take a token where joined pieces merge differently).</summary>
    [Range(16, 8192)]
    public int MaxTokens { get; set; } = 500;

    /// <summary>Tokens of trailing sentences a chunk repeats from the one before it, so no passage loses its context.</summary>
    [Range(0, 2048)]
    public int OverlapTokens { get; set; } = 50;

    /// <summary>The options' error, or null when they are usable.</summary>
    public string? Validate() =>
        TargetTokens < 16 || MaxTokens < 16 || OverlapTokens < 0 ? "Chunks have at least 16 tokens, and the overlap is not negative."
        : TargetTokens > MaxTokens ? "TargetTokens must not exceed MaxTokens."
        : OverlapTokens * 2 > TargetTokens ? "OverlapTokens must be at most half of TargetTokens."
        : null;
}

/// <summary>One chunk of a text: its position, text and token count.</summary>
public readonly record struct TextChunk(int Ordinal, string Text, int TokenCount);

/// <summary>
/// Splits text (plain or Markdown) into chunks for embedding. Boundaries follow the text's structure: a chunk ends
/// at a paragraph once it reaches <see cref="TextChunkerOptions.TargetTokens"/>, a Markdown heading starts a new chunk
/// (a section is not glued to the end of the previous one), and fenced code blocks are not split into sentences.
/// A paragraph too large for one chunk is split between sentences, a sentence too large between words, and a "word"
/// still too large (a URL, base64, unspaced script) by length. Consecutive chunks overlap by up to
/// <see cref="TextChunkerOptions.OverlapTokens"/> of whole trailing sentences, except across a heading.
/// Thread-safe.
/// </summary>
public sealed partial class TextChunker(ITokenEstimator tokens)
{
    private const string ParagraphBreak = "\n\n";
    private const string LineBreak = "\n";
    private const string Space = " ";

    public IReadOnlyList<TextChunk> Split(string text, TextChunkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= new TextChunkerOptions();
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        var chunks = new List<TextChunk>();
        var current = new List<Piece>();
        var currentTokens = 0;
        var fresh = 0;

        foreach (var piece in Pieces(text, options.MaxTokens))
        {
            var cost = piece.Tokens + (current.Count > 0 ? 1 : 0);
            var startsBlock = piece.Separator == ParagraphBreak;
            var full = currentTokens + cost > options.MaxTokens;
            var sectionEnds = piece.IsHeading && currentTokens * 2 >= options.TargetTokens;
            var paragraphEnds = startsBlock && currentTokens >= options.TargetTokens;
            if (fresh > 0 && (full || sectionEnds || paragraphEnds))
            {
                chunks.Add(Render(chunks.Count, current));
                var overlap = piece.IsHeading ? [] : Overlap(current, options.OverlapTokens);
                while (overlap.Count > 0 && overlap.Sum(p => p.Tokens + 1) + piece.Tokens > options.MaxTokens)
                {
                    overlap.RemoveAt(0);
                }

                current = overlap;
                currentTokens = overlap.Sum(p => p.Tokens + 1);
                fresh = 0;
            }

            current.Add(piece);
            currentTokens += piece.Tokens + (current.Count > 1 ? 1 : 0);
            fresh++;
        }

        if (fresh > 0)
        {
            chunks.Add(Render(chunks.Count, current));
        }

        return chunks;
    }

    private TextChunk Render(int ordinal, List<Piece> pieces)
    {
        var builder = new StringBuilder();
        foreach (var piece in pieces)
        {
            if (builder.Length > 0)
            {
                builder.Append(piece.Separator);
            }

            builder.Append(piece.Text);
        }

        var text = builder.ToString();
        return new TextChunk(ordinal, text, tokens.CountTokens(text));
    }

    // Whole sentences from the end of the chunk, as many as fit the overlap; never a heading.
    private static List<Piece> Overlap(List<Piece> chunk, int overlapTokens)
    {
        var overlap = new List<Piece>();
        var total = 0;
        for (var i = chunk.Count - 1; i >= 0 && !chunk[i].IsHeading; i--)
        {
            total += chunk[i].Tokens + 1;
            if (total > overlapTokens)
            {
                break;
            }

            overlap.Insert(0, chunk[i]);
        }

        return overlap;
    }

    /// <summary>The text as pieces of at most <paramref name="maxTokens"/>, each with the separator that precedes it.</summary>
    private IEnumerable<Piece> Pieces(string text, int maxTokens)
    {
        foreach (var block in Blocks(text))
        {
            if (block.IsHeading)
            {
                foreach (var piece in Bounded(block.Lines[0].Trim(), ParagraphBreak, maxTokens, isHeading: true))
                {
                    yield return piece;
                }

                continue;
            }

            for (var line = 0; line < block.Lines.Count; line++)
            {
                var separator = line == 0 ? ParagraphBreak : LineBreak;
                // Code keeps its lines whole (and their indentation); prose is split between sentences.
                IEnumerable<string> sentences = block.IsCode ? [block.Lines[line]] : SentenceEnd().Split(block.Lines[line].Trim());
                foreach (var raw in sentences)
                {
                    var sentence = block.IsCode ? raw : raw.Trim();
                    if (sentence.Length == 0)
                    {
                        continue;
                    }

                    foreach (var piece in Bounded(sentence, separator, maxTokens, isHeading: false))
                    {
                        yield return piece;
                    }

                    separator = Space;
                }
            }
        }
    }

    /// <summary>A sentence as one piece, or split between words (and, failing that, by length) when it is too large.</summary>
    private IEnumerable<Piece> Bounded(string sentence, string separator, int maxTokens, bool isHeading)
    {
        var count = tokens.CountTokens(sentence);
        if (count <= maxTokens)
        {
            yield return new Piece(sentence, count, separator, isHeading);
            yield break;
        }

        var words = new StringBuilder();
        var wordTokens = 0;
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var cost = tokens.CountTokens(word) + (words.Length > 0 ? 1 : 0);
            if (words.Length > 0 && wordTokens + cost > maxTokens)
            {
                yield return Flush();
            }

            if (tokens.CountTokens(word) > maxTokens)
            {
                foreach (var part in ByLength(word, maxTokens))
                {
                    yield return new Piece(part.Text, part.Tokens, separator, isHeading);
                    separator = Space;
                }

                continue;
            }

            if (words.Length > 0)
            {
                words.Append(' ');
            }

            words.Append(word);
            wordTokens += cost;
        }

        if (words.Length > 0)
        {
            yield return Flush();
        }

        Piece Flush()
        {
            var flushed = words.ToString();
            words.Clear();
            wordTokens = 0;
            var piece = new Piece(flushed, tokens.CountTokens(flushed), separator, isHeading);
            separator = Space;
            return piece;
        }
    }

    // Shrinks each part until it fits; a token is at least one character, so a part of maxTokens characters or
    // fewer always ends the loop, and surrogate pairs are never cut.
    private IEnumerable<(string Text, int Tokens)> ByLength(string word, int maxTokens)
    {
        var start = 0;
        while (start < word.Length)
        {
            var length = Math.Min(word.Length - start, maxTokens * 4);
            while (true)
            {
                if (length < word.Length - start && char.IsHighSurrogate(word[start + length - 1]))
                {
                    length--;
                }

                var part = word.Substring(start, length);
                var count = tokens.CountTokens(part);
                if (count <= maxTokens || length <= 1)
                {
                    yield return (part, count);
                    start += length;
                    break;
                }

                length = Math.Max(1, (int)(length * (double)maxTokens / count * 0.9));
            }
        }
    }

    /// <summary>Paragraphs (between blank lines), Markdown headings (a line each) and fenced code blocks.</summary>
    private static List<Block> Blocks(string text)
    {
        var blocks = new List<Block>();
        var lines = new List<string>();
        var inFence = false;

        void Close(bool isCode)
        {
            if (lines.Count > 0)
            {
                blocks.Add(new Block([.. lines], IsHeading: false, isCode));
                lines.Clear();
            }
        }

        foreach (var raw in text.ReplaceLineEndings(LineBreak).Split(LineBreak))
        {
            var line = raw.TrimEnd();
            var isFence = line.TrimStart().StartsWith("```", StringComparison.Ordinal) || line.TrimStart().StartsWith("~~~", StringComparison.Ordinal);
            if (inFence)
            {
                lines.Add(line);
                if (isFence)
                {
                    inFence = false;
                    Close(isCode: true);
                }

                continue;
            }

            if (isFence)
            {
                Close(isCode: false);
                lines.Add(line);
                inFence = true;
            }
            else if (line.Length == 0)
            {
                Close(isCode: false);
            }
            else if (Heading().IsMatch(line))
            {
                Close(isCode: false);
                blocks.Add(new Block([line], IsHeading: true, IsCode: false));
            }
            else
            {
                lines.Add(line);
            }
        }

        // An unclosed fence runs to the end of the text.
        Close(isCode: inFence);
        return blocks;
    }

    private sealed record Block(IReadOnlyList<string> Lines, bool IsHeading, bool IsCode);

    private sealed record Piece(string Text, int Tokens, string Separator, bool IsHeading);

    [GeneratedRegex(@"^ {0,3}#{1,6}(\s|$)")]
    private static partial Regex Heading();

    // After ., ! or ? (and any closing quote or bracket) followed by whitespace; after CJK full stops directly.
    [GeneratedRegex(@"(?<=[.!?][""'”’)\]]*)\s+|(?<=[。！？])")]
    private static partial Regex SentenceEnd();
}
