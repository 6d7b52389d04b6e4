using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentPlatform.Worker.Knowledge;

public static class KnowledgeExtensions
{
    /// <summary>
    /// The tenant knowledge store for the retrieval sub-agent: the indexer that turns pending documents into embedded
    /// chunks (a hosted service), <see cref="KnowledgeSearch"/> and the store itself (section <c>Knowledge</c>).
    /// Embeds through the registered <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>; when there is none yet, the
    /// model gateway client is added. Call it after <c>AddTaskRunner</c>, which adds that client.
    /// </summary>
    public static IHostApplicationBuilder AddKnowledge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KnowledgeOptions>()
            .BindConfiguration(KnowledgeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.Chunking.Validate() is null, "Knowledge:Chunking: chunks have at least 16 tokens, TargetTokens must not exceed MaxTokens, and OverlapTokens must be at most half of TargetTokens.")
            .ValidateOnStart();
        // The model gateway's embeddings, unless the host brought its own generator (tests do).
        if (!builder.Services.Any(service => service.ServiceType == typeof(IEmbeddingGenerator<string, Embedding<float>>)))
        {
            builder.AddModelGatewayClient();
        }

        builder.AddKnowledgeStore();
        builder.Services.TryAddSingleton<KnowledgeLeases>();
        builder.Services.TryAddSingleton<KnowledgeIndexer>();
        builder.Services.TryAddSingleton<KnowledgeSearch>();
        builder.Services.AddHostedService<KnowledgeIndexingService>();
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(KnowledgeTelemetry.Source.Name));
        return builder;
    }
}
