using System.Diagnostics;
using System.Numerics.Tensors;
using AgentPlatform.ModelGateway.Providers.Offline;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Tests.Offline;

public sealed class OfflineEmbeddingGeneratorFixture : IDisposable
{
    public OfflineEmbeddingGeneratorFixture()
    {
        var before = Environment.WorkingSet;
        var watch = Stopwatch.StartNew();
        Generator.GenerateAsync(["warm up"]).GetAwaiter().GetResult();
        LoadTime = watch.Elapsed;
        LoadMemoryBytes = Environment.WorkingSet - before;
    }

    public OfflineEmbeddingGenerator Generator { get; } = new();

    public TimeSpan LoadTime { get; }

    public long LoadMemoryBytes { get; }

    public void Dispose() => Generator.Dispose();
}

public sealed class OfflineEmbeddingGeneratorTests(OfflineEmbeddingGeneratorFixture fixture, ITestOutputHelper output)
    : IClassFixture<OfflineEmbeddingGeneratorFixture>
{
    private readonly OfflineEmbeddingGenerator generator = fixture.Generator;

    [Fact]
    public async Task Embeddings_have_384_unit_length_dimensions_and_usage()
    {
        var embeddings = await generator.GenerateAsync(["hello world", "a second, longer sentence to embed"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, embeddings.Count);
        Assert.All(embeddings, e =>
        {
            Assert.Equal(OfflineEmbeddingGenerator.ModelDimensions, e.Dimensions);
            Assert.Equal(OfflineEmbeddingGenerator.ModelId, e.ModelId);
            Assert.Equal(1.0, TensorPrimitives.Norm(e.Vector.Span), 3);
        });
        // [CLS] hello world [SEP] = 4 word pieces; the second sentence has more.
        Assert.True(embeddings.Usage?.InputTokenCount > 8, $"{embeddings.Usage?.InputTokenCount}");
        Assert.Equal(true, embeddings.AdditionalProperties?[OfflineChatClient.OfflinePropertyName]);
    }

    [Fact]
    public async Task Embeddings_are_deterministic()
    {
        var first = await generator.GenerateAsync(["The invoice was paid twice."], cancellationToken: TestContext.Current.CancellationToken);
        var second = await generator.GenerateAsync(["The invoice was paid twice."], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(first[0].Vector.ToArray(), second[0].Vector.ToArray());
    }

    [Fact]
    public async Task Similar_sentences_are_closer_than_unrelated_ones()
    {
        var embeddings = await generator.GenerateAsync(
            ["How do I get a refund for a double charge?", "I was billed twice and want my money back.", "The recipe needs two cups of flour."],
            cancellationToken: TestContext.Current.CancellationToken);

        var similar = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[1].Vector.Span);
        var unrelated = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[2].Vector.Span);
        output.WriteLine($"similar {similar:F3}, unrelated {unrelated:F3}");
        Assert.True(similar > unrelated + 0.2, $"similar {similar}, unrelated {unrelated}");
    }

    [Fact]
    public async Task Fewer_dimensions_truncate_and_renormalise_and_more_are_refused()
    {
        var full = await generator.GenerateAsync(["truncate me"], cancellationToken: TestContext.Current.CancellationToken);
        var shortened = await generator.GenerateAsync(["truncate me"], new EmbeddingGenerationOptions { Dimensions = 128 }, TestContext.Current.CancellationToken);

        Assert.Equal(128, shortened[0].Dimensions);
        Assert.Equal(1.0, TensorPrimitives.Norm(shortened[0].Vector.Span), 3);
        Assert.True(TensorPrimitives.CosineSimilarity(full[0].Vector.Span[..128], shortened[0].Vector.Span) > 0.999);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            generator.GenerateAsync(["too many"], new EmbeddingGenerationOptions { Dimensions = 1536 }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Concurrent_calls_give_the_same_vectors_as_sequential_ones()
    {
        var expected = (await generator.GenerateAsync(["concurrency"], cancellationToken: TestContext.Current.CancellationToken))[0].Vector.ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => generator.GenerateAsync(["concurrency"], cancellationToken: TestContext.Current.CancellationToken)));

        Assert.All(results, r => Assert.Equal(expected, r[0].Vector.ToArray()));
    }

    [Fact]
    public async Task Empty_input_gives_no_embeddings()
    {
        var embeddings = await generator.GenerateAsync([], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Empty(embeddings);
    }

    [Fact]
    public async Task Reports_load_time_latency_and_memory()
    {
        string[] sentence = ["The quick brown fox jumps over the lazy dog near the river bank."];
        var batch = Enumerable.Range(0, 32).Select(i => $"Sentence number {i} about a topic of interest for the benchmark.").ToArray();
        await generator.GenerateAsync(sentence, cancellationToken: TestContext.Current.CancellationToken);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            await generator.GenerateAsync(sentence, cancellationToken: TestContext.Current.CancellationToken);
        }

        var single = watch.Elapsed.TotalMilliseconds / 10;
        watch.Restart();
        await generator.GenerateAsync(batch, cancellationToken: TestContext.Current.CancellationToken);
        var batched = watch.Elapsed.TotalMilliseconds;

        output.WriteLine(
            $"load {fixture.LoadTime.TotalMilliseconds:F0} ms (+{fixture.LoadMemoryBytes / (1024 * 1024)} MB working set); " +
            $"one sentence {single:F1} ms; batch of 32 {batched:F0} ms ({batched / 32:F1} ms each)");
        Assert.True(single < 1000, $"{single} ms per sentence");
    }
}
