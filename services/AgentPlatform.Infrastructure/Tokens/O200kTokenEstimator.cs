using Microsoft.ML.Tokenizers;

namespace AgentPlatform.Infrastructure.Tokens;

/// <summary>
/// <see cref="ITokenEstimator"/> over OpenAI's <c>o200k_base</c> encoding (Microsoft.ML.Tokenizers, data bundled in
/// the Microsoft.ML.Tokenizers.Data.O200kBase package, so it works offline). The encoding is loaded once per process on
/// first use and shared by every instance; <see cref="TiktokenTokenizer"/> is safe for concurrent use.
/// </summary>
public sealed class O200kTokenEstimator : ITokenEstimator
{
    private static readonly Lazy<Tokenizer> SharedTokenizer =
        new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"), LazyThreadSafetyMode.ExecutionAndPublication);

    public int CountTokens(string? text) =>
        string.IsNullOrEmpty(text) ? 0 : SharedTokenizer.Value.CountTokens(text);

    public int CountChatTokens(IEnumerable<ChatMessageText> messages, string? extraText = null)
    {
        ArgumentNullException.ThrowIfNull(messages);

        var total = TokenEstimates.TokensPerReply;
        foreach (var message in messages)
        {
            total += TokenEstimates.TokensPerMessage + CountTokens(message.Role) + CountTokens(message.Content);
            if (!string.IsNullOrEmpty(message.Name))
            {
                total += CountTokens(message.Name) + TokenEstimates.TokensPerName;
            }
        }

        return total + CountTokens(extraText);
    }
}
