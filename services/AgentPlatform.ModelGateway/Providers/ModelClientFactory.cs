using AgentPlatform.Domain.Models;
using AgentPlatform.Infrastructure.Tokens;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using AgentPlatform.ModelGateway.Providers.Offline;
using AgentPlatform.ModelGateway.Routing;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OpenAI;

namespace AgentPlatform.ModelGateway.Providers;

/// <summary>
/// The <see cref="IChatClient"/> and <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of each deployment,
/// created once per upstream (provider, endpoint, model, key) and shared. Every client sends through one
/// connection pool with no retries and no timeout of its own: the router owns both, per deployment.
/// </summary>
public sealed class ModelClientFactory : IDisposable
{
    /// <summary>Where a deployment of provider <c>openai</c> without endpoint goes.</summary>
    public static readonly Uri OpenAiEndpoint = new("https://api.openai.com/v1");

    private readonly ConcurrentDictionary<string, IChatClient> chatClients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IEmbeddingGenerator<string, Embedding<float>>> embeddingGenerators = new(StringComparer.Ordinal);
    private readonly SocketsHttpHandler handler;
    private readonly HttpClient http;
    private readonly HttpClientPipelineTransport transport;
    private readonly ITokenEstimator tokenEstimator;
    private readonly OfflineEmbeddingGenerator offlineEmbeddings;

    public ModelClientFactory(ITokenEstimator tokenEstimator, OfflineEmbeddingGenerator offlineEmbeddings)
    {
        this.tokenEstimator = tokenEstimator;
        this.offlineEmbeddings = offlineEmbeddings;
        handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            EnableMultipleHttp2Connections = true,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
        };
        http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        transport = new HttpClientPipelineTransport(http);
        Relay = new OpenAiRelay(http);
    }

    /// <summary>Non-streaming chat completions of the deployments that speak OpenAI's format (<see cref="Relays"/>).</summary>
    public OpenAiRelay Relay { get; }

    /// <summary>Whether a non-streaming chat call to <paramref name="deployment"/> goes through <see cref="Relay"/>.</summary>
    public static bool Relays(ModelDeploymentDefinition deployment) => deployment.Provider == ModelProviders.OpenAi;

    public IChatClient ChatClient(ModelDeploymentDefinition deployment) =>
        chatClients.GetOrAdd(deployment.Key, _ => CreateChatClient(deployment));

    public IEmbeddingGenerator<string, Embedding<float>> EmbeddingGenerator(ModelDeploymentDefinition deployment) =>
        embeddingGenerators.GetOrAdd(deployment.Key, _ => CreateEmbeddingGenerator(deployment));

    public void Dispose()
    {
        foreach (var client in chatClients.Values)
        {
            client.Dispose();
        }

        foreach (var generator in embeddingGenerators.Values.Where(g => !ReferenceEquals(g, offlineEmbeddings)))
        {
            generator.Dispose();
        }

        http.Dispose();
        handler.Dispose();
    }

    private IChatClient CreateChatClient(ModelDeploymentDefinition deployment) => deployment.Provider switch
    {
        ModelProviders.Offline => new OfflineChatClient(deployment.Model, tokenEstimator),
        ModelProviders.OpenAi => OpenAi(deployment).GetChatClient(deployment.Model).AsIChatClient(),
        ModelProviders.AzureOpenAi => Azure(deployment).GetChatClient(deployment.Model).AsIChatClient(),
        ModelProviders.Ollama => Ollama(deployment),
        _ => throw new NotSupportedException($"Deployment '{deployment.Name}': the provider '{deployment.Provider}' is not known."),
    };

    private IEmbeddingGenerator<string, Embedding<float>> CreateEmbeddingGenerator(ModelDeploymentDefinition deployment) => deployment.Provider switch
    {
        ModelProviders.Offline => offlineEmbeddings,
        ModelProviders.OpenAi => OpenAi(deployment).GetEmbeddingClient(deployment.Model).AsIEmbeddingGenerator(),
        ModelProviders.AzureOpenAi => Azure(deployment).GetEmbeddingClient(deployment.Model).AsIEmbeddingGenerator(),
        ModelProviders.Ollama => Ollama(deployment),
        _ => throw new NotSupportedException($"Deployment '{deployment.Name}': the provider '{deployment.Provider}' is not known."),
    };

    private OpenAIClient OpenAi(ModelDeploymentDefinition deployment) =>
        new(new ApiKeyCredential(deployment.ApiKey ?? "none"), new OpenAIClientOptions
        {
            Endpoint = deployment.Endpoint ?? OpenAiEndpoint,
            Transport = transport,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromHours(1),
        });

    private AzureOpenAIClient Azure(ModelDeploymentDefinition deployment) =>
        new(deployment.Endpoint ?? throw new InvalidOperationException($"Deployment '{deployment.Name}' (azure-openai) has no endpoint."),
            new ApiKeyCredential(deployment.ApiKey ?? throw new InvalidOperationException($"Deployment '{deployment.Name}' (azure-openai) has no credential.")),
            new AzureOpenAIClientOptions
            {
                Transport = transport,
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = TimeSpan.FromHours(1),
            });

    private OllamaApiClient Ollama(ModelDeploymentDefinition deployment)
    {
        // OllamaSharp needs a client of its own (base address, key); it still sends through the shared pool.
        var client = new HttpClient(handler, disposeHandler: false)
        {
            BaseAddress = deployment.Endpoint ?? new Uri("http://localhost:11434"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (deployment.ApiKey is { } key)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return new OllamaApiClient(client, deployment.Model);
    }
}
