using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.VectorData;

namespace AgentPlatform.Infrastructure.Knowledge;

public static class KnowledgeStoreExtensions
{
    /// <summary>
    /// The knowledge store: <see cref="KnowledgeChunkCollection"/> (scoped, acting for the scope's tenant; also as
    /// <see cref="VectorStoreCollection{TKey, TRecord}"/> of <see cref="KnowledgeChunkRecord"/>, searching by text
    /// when an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> is registered) and the <see cref="TextChunker"/>.
    /// Needs <c>AddPlatformDatabase</c>.
    /// </summary>
    public static IHostApplicationBuilder AddKnowledgeStore(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ITokenEstimator, O200kTokenEstimator>();
        builder.Services.TryAddSingleton<TextChunker>();
        builder.Services.TryAddScoped(services => new KnowledgeChunkCollection(
            services.GetRequiredService<AgentPlatformDbContext>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetService<IEmbeddingGenerator<string, Embedding<float>>>()));
        builder.Services.TryAddScoped<VectorStoreCollection<Guid, KnowledgeChunkRecord>>(services => services.GetRequiredService<KnowledgeChunkCollection>());
        return builder;
    }
}
