using System.ClientModel;
using System.ClientModel.Primitives;
using System.ComponentModel.DataAnnotations;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenAI;

namespace AgentPlatform.Worker.Models;

/// <summary>How the Worker's agents call models (section <c>Agents</c>).</summary>
public sealed class AgentModelOptions
{
    public const string SectionName = "Agents";

    /// <summary>The model gateway's address; by default found through service discovery.</summary>
    [Required]
    public Uri ModelGateway { get; set; } = new($"http://{ResourceNames.ModelGateway}");

    /// <summary>The model alias (a model gateway route) the Main Agent and the built-in sub-agents use.</summary>
    [Required, MinLength(1)]
    public string Model { get; set; } = "default";

    /// <summary>How many times an answer that does not fit its schema is sent back to be repaired.</summary>
    [Range(0, 5)]
    public int MaxRepairs { get; set; } = 2;

    /// <summary>Tokens of task context one model call may carry; the Context Optimizer trims to it.</summary>
    [Range(256, 1_000_000)]
    public int ContextTokenBudget { get; set; } = 6000;

    /// <summary>Tokens of dropped context the optimizer's summary call reads.</summary>
    [Range(256, 1_000_000)]
    public int SummaryInputTokenBudget { get; set; } = 3000;

    /// <summary>The embedding model alias (a model gateway route) for knowledge documents and queries.</summary>
    [Required, MinLength(1)]
    public string EmbeddingModel { get; set; } = "text-embedding-default";

    /// <summary>Tokens each model call may answer with.</summary>
    [Range(16, 100_000)]
    public int MaxOutputTokens { get; set; } = 1024;

    /// <summary>
    /// The longest single <c>Retry-After</c> of a 429 or 503 that a model call waits out before sending again;
    /// a longer one goes back to the step as an error.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MaxRetryAfterWait { get; set; } = TimeSpan.FromSeconds(65);

    /// <summary>All the waits of one model call together; the step's timeout bounds them too.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan MaxRetryAfterTotalWait { get; set; } = TimeSpan.FromMinutes(5);
}

public static class ModelGatewayExtensions
{
    public const string HttpClientName = "modelgateway";

    /// <summary>
    /// The Worker's <see cref="IChatClient"/> and <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>:
    /// Microsoft.Extensions.AI's OpenAI clients against the model gateway,
    /// through an HTTP client that authenticates each call as its task's tenant. Retries and timeouts belong to the
    /// macro flow's step policies, so the HTTP client adds none of its own; it only waits out a rate limit's
    /// <c>Retry-After</c> (<see cref="RetryAfterHandler"/>). Calling it again adds nothing.
    /// </summary>
    public static IHostApplicationBuilder AddModelGatewayClient(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(ModelGatewayHandler)))
        {
            return builder;
        }

        builder.Services.AddOptions<AgentModelOptions>().BindConfiguration(AgentModelOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddTransient<RetryAfterHandler>();
        builder.Services.AddTransient<ModelGatewayHandler>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; the flow's policies own retries.
        builder.Services.AddHttpClient(HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllResilienceHandlers()
            .AddHttpMessageHandler<RetryAfterHandler>()
            .AddHttpMessageHandler<ModelGatewayHandler>();
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton(services => OpenAiClient(services).GetChatClient(Options(services).Model).AsIChatClient());
        builder.Services.AddSingleton(services => OpenAiClient(services).GetEmbeddingClient(Options(services).EmbeddingModel).AsIEmbeddingGenerator());
        return builder;
    }

    private static AgentModelOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<AgentModelOptions>>().Value;

    private static OpenAIClient OpenAiClient(IServiceProvider services) =>
        new(new ApiKeyCredential("set-per-call"), new OpenAIClientOptions
        {
            Endpoint = new Uri(Options(services).ModelGateway, "v1/"),
            Transport = new HttpClientPipelineTransport(services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromHours(1),
        });
}
