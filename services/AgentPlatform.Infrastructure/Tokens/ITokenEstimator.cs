namespace AgentPlatform.Infrastructure.Tokens;

/// <summary>
/// Counts tokens before a call is sent, so its worst-case cost can be reserved (and a call that cannot fit the
/// remaining budget refused). Counts with OpenAI's <c>o200k_base</c> encoding: exact for current OpenAI models,
/// an estimate for others. Thread-safe; one instance per process.
/// </summary>
public interface ITokenEstimator
{
    /// <summary>Tokens of <paramref name="text"/> (zero for null or empty).</summary>
    int CountTokens(string? text);

    /// <summary>
    /// Input tokens of a chat request, counted like OpenAI bills them: every message costs
    /// <see cref="TokenEstimates.TokensPerMessage"/> plus its role, content and name (a name one more), and the
    /// reply is primed with <see cref="TokenEstimates.TokensPerReply"/>. Tool definitions or a response schema, when the
    /// request has them, go in as <paramref name="extraText"/> (their JSON), counted as plain text.
    /// </summary>
    int CountChatTokens(IEnumerable<ChatMessageText> messages, string? extraText = null);
}

/// <summary>The text of one chat message as the estimator sees it: all its text parts joined.</summary>
public readonly record struct ChatMessageText(string Role, string? Content, string? Name = null);

/// <summary>OpenAI's per-message overheads for chat models (the same for the gpt-4o and gpt-4.1 families).</summary>
public static class TokenEstimates
{
    public const int TokensPerMessage = 3;

    public const int TokensPerName = 1;

    public const int TokensPerReply = 3;
}

public static class TokenEstimatorExtensions
{
    /// <summary>
    /// <paramref name="text"/> cut to at most <paramref name="maxTokens"/> tokens (its beginning, with an ellipsis
    /// when cut), for prompts that must stay within a budget.
    /// </summary>
    public static string Fit(this ITokenEstimator estimator, string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(text);
        if (estimator.CountTokens(text) <= maxTokens)
        {
            return text;
        }

        // Roughly 4 characters a token; tighten until it fits.
        var length = Math.Min(text.Length, Math.Max(0, maxTokens) * 4);
        while (length > 0 && estimator.CountTokens(text[..length]) > maxTokens)
        {
            length = length * 3 / 4;
        }

        return text[..length] + "…";
    }
}
