using AgentPlatform.Domain.Models;
using AgentPlatform.Infrastructure.Networking;
using AgentPlatform.Infrastructure.Tokens;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using AgentPlatform.ModelGateway.Providers.Offline;
using AgentPlatform.ModelGateway.Routing;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OllamaSharp;
using OpenAI;

namespace AgentPlatform.ModelGateway.Providers;

/// <summary>
/// The <see cref="IChatClient"/> and <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of each deployment,
/// created once per upstream (provider, endpoint, model, key) and shared. Every client sends through one of two
/// connection pools with no retries, no timeout and no redirects of its own (the router owns retries and timeouts,
/// per deployment; a model API that redirects a POST is misconfigured). Tenant-configured deployments use the second
/// pool, whose connections reach only the addresses <see cref="TenantEndpointOptions"/> allows.
/// </summary>
public sealed class ModelClientFactory : IDisposable
{
    /// <summary>Where a deployment of provider <c>openai</c> without endpoint goes.</summary>
    public static readonly Uri OpenAiEndpoint = new("https://api.openai.com/v1");

    /// <summary>
    /// The most of one relayed answer (<see cref="OpenAiRelay"/>) read into memory; a chat completion is kilobytes. An
    /// endpoint that sends more fails the attempt instead of filling the gateway's memory.
    /// </summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, IChatClient> chatClients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IEmbeddingGenerator<string, Embedding<float>>> embeddingGenerators = new(StringComparer.Ordinal);
    private readonly Upstream platform;
    private readonly Upstream tenant;
    private readonly ITokenEstimator tokenEstimator;
    private readonly OfflineEmbeddingGenerator offlineEmbeddings;

    public ModelClientFactory(ITokenEstimator tokenEstimator, OfflineEmbeddingGenerator offlineEmbeddings, IOptionsMonitor<ModelGatewayOptions> options)
    {
        this.tokenEstimator = tokenEstimator;
        this.offlineEmbeddings = offlineEmbeddings;
        platform = new Upstream(connect: null);
        tenant = new Upstream((context, cancellationToken) => OutboundAddresses.ConnectAsync(
            context, address => OutboundAddresses.IsAllowed(address, options.CurrentValue.TenantEndpoints.AllowedPrivateNetworks), cancellationToken));
        Relay = new OpenAiRelay(deployment => UpstreamOf(deployment).Http);
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

        platform.Dispose();
        tenant.Dispose();
    }

    private Upstream UpstreamOf(ModelDeploymentDefinition deployment) => deployment.TenantConfigured ? tenant : platform;

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
            Transport = UpstreamOf(deployment).Transport,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromHours(1),
        });

    private AzureOpenAIClient Azure(ModelDeploymentDefinition deployment) =>
        new(deployment.Endpoint ?? throw new InvalidOperationException($"Deployment '{deployment.Name}' (azure-openai) has no endpoint."),
            new ApiKeyCredential(deployment.ApiKey ?? throw new InvalidOperationException($"Deployment '{deployment.Name}' (azure-openai) has no credential.")),
            new AzureOpenAIClientOptions
            {
                Transport = UpstreamOf(deployment).Transport,
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = TimeSpan.FromHours(1),
            });

    private OllamaApiClient Ollama(ModelDeploymentDefinition deployment)
    {
        // OllamaSharp needs a client of its own (base address, key); it still sends through the deployment's pool.
        var client = new HttpClient(UpstreamOf(deployment).Handler, disposeHandler: false)
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

    /// <summary>One connection pool and the clients over it.</summary>
    private sealed class Upstream : IDisposable
    {
        public Upstream(Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect)
        {
            Handler = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                EnableMultipleHttp2Connections = true,
                AutomaticDecompression = System.Net.DecompressionMethods.All,
                AllowAutoRedirect = false,
                ConnectCallback = connect,
            };
            Http = new HttpClient(Handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan, MaxResponseContentBufferSize = MaxResponseBytes };
            Transport = new HttpClientPipelineTransport(Http);
        }

        public SocketsHttpHandler Handler { get; }

        public HttpClient Http { get; }

        public HttpClientPipelineTransport Transport { get; }

        public void Dispose()
        {
            Http.Dispose();
            Handler.Dispose();
        }
    }
}
