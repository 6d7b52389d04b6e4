using AgentPlatform.Infrastructure.Tokens;
using System.Diagnostics;

namespace AgentPlatform.ModelGateway.Tests.Governance;

public sealed class TokenEstimatorTests(ITestOutputHelper output)
{
    private readonly O200kTokenEstimator estimator = new();

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("hello world", 2)]
    [InlineData("Hello, world!", 4)]
    [InlineData("The quick brown fox jumps over the lazy dog.", 10)]
    public void CountTokens_matches_o200k_base(string? text, int expected) =>
        Assert.Equal(expected, estimator.CountTokens(text));

    [Fact]
    public void CountChatTokens_adds_the_per_message_name_and_reply_overheads()
    {
        ChatMessageText[] messages =
        [
            new("system", "You are helpful."),
            new("user", "hello world", Name: "alice"),
        ];

        var expected =
            TokenEstimates.TokensPerMessage + estimator.CountTokens("system") + estimator.CountTokens("You are helpful.")
            + TokenEstimates.TokensPerMessage + estimator.CountTokens("user") + estimator.CountTokens("hello world")
            + estimator.CountTokens("alice") + TokenEstimates.TokensPerName
            + TokenEstimates.TokensPerReply;

        Assert.Equal(expected, estimator.CountChatTokens(messages));
        // system(1) + "You are helpful."(4) + user(1) + "hello world"(2) + alice(1) + 3 + 3 + 1 + 3.
        Assert.Equal(19, estimator.CountChatTokens(messages));
    }

    [Fact]
    public void CountChatTokens_counts_extra_text_as_plain_text()
    {
        ChatMessageText[] messages = [new("user", "hi")];
        const string schema = """{"type":"object","properties":{"answer":{"type":"string"}}}""";

        Assert.Equal(
            estimator.CountChatTokens(messages) + estimator.CountTokens(schema),
            estimator.CountChatTokens(messages, schema));
        Assert.Equal(TokenEstimates.TokensPerReply, estimator.CountChatTokens([]));
    }

    [Fact]
    public void Counting_is_thread_safe_and_shared_across_instances()
    {
        const string text = "Concurrency should not change the count of this sentence at all.";
        var expected = new O200kTokenEstimator().CountTokens(text);
        var counts = new int[64];

        Parallel.For(0, counts.Length, i => counts[i] = new O200kTokenEstimator().CountTokens(text));

        Assert.All(counts, c => Assert.Equal(expected, c));
    }

    [Fact]
    public void A_typical_1_KB_prompt_counts_in_well_under_a_millisecond()
    {
        var prompt = string.Concat(Enumerable.Repeat("Plan the rollout of the new billing agent across three regions; ", 16))[..1024];
        estimator.CountTokens(prompt);
        const int iterations = 2000;

        var watch = Stopwatch.StartNew();
        var tokens = 0;
        for (var i = 0; i < iterations; i++)
        {
            tokens = estimator.CountTokens(prompt + i);
        }

        var perCall = watch.Elapsed.TotalMicroseconds / iterations;
        output.WriteLine($"1 KB prompt: {tokens} tokens, {perCall:F1} µs per count (mean of {iterations}).");
        Assert.True(perCall < 5000, $"{perCall} µs per count");
    }
}
