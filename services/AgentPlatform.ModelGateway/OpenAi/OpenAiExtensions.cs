using AgentPlatform.Infrastructure.Secrets;
using Microsoft.Extensions.Options;
using AgentPlatform.ModelGateway.Providers;
using AgentPlatform.ModelGateway.Providers.Offline;
using AgentPlatform.ModelGateway.Routing;

namespace AgentPlatform.ModelGateway.OpenAi;

public static class OpenAiExtensions
{
    /// <summary>Providers, routing and the OpenAI wire format.</summary>
    public static IHostApplicationBuilder AddModelDataPlane(this IHostApplicationBuilder builder)
    {
        builder.AddSecretProtection();
        builder.Services.AddOptions<ModelGatewayOptions>().BindConfiguration(ModelGatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IPostConfigureOptions<ModelGatewayOptions>, ModelEndpointConnection>();
        builder.Services.AddSingleton<IValidateOptions<ModelGatewayOptions>, ModelGatewayOptionsValidator>();
        builder.Services.AddSingleton<ModelRouteCatalog>();
        builder.Services.AddSingleton<DeploymentHealth>();
        builder.Services.AddSingleton<ModelRouter>();
        builder.Services.AddSingleton<OfflineEmbeddingGenerator>();
        builder.Services.AddSingleton<ModelClientFactory>();
        builder.Services.AddSingleton<ChatCompletionsHandler>();
        builder.Services.AddSingleton<EmbeddingsHandler>();
        builder.Services.AddSingleton<ModelsHandler>();
        return builder;
    }

    /// <summary>The OpenAI-compatible API under <c>/v1</c>. Endpoints check permissions themselves, to answer in OpenAI's error shape.</summary>
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").RequireAuthorization().WithTags("OpenAI-compatible").AddEndpointFilter(OpenAiServerErrors);
        v1.MapPost("/chat/completions", (HttpContext context, ChatCompletionsHandler handler) => handler.HandleAsync(context))
            .WithName("CreateChatCompletion");
        v1.MapPost("/embeddings", (HttpContext context, EmbeddingsHandler handler) => handler.HandleAsync(context))
            .WithName("CreateEmbeddings");
        v1.MapGet("/models", (HttpContext context, ModelsHandler handler) => handler.ListAsync(context))
            .WithName("ListModels");
        v1.MapGet("/models/{model}", (HttpContext context, string model, ModelsHandler handler) => handler.GetAsync(context, model))
            .WithName("RetrieveModel");
        return endpoints;
    }

    // A failure of the gateway itself still answers in OpenAI's shape (500, with the trace id to quote), so
    // OpenAI's SDKs raise their usual error instead of failing to parse problem details.
    private static async ValueTask<object?> OpenAiServerErrors(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (Exception exception) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OpenAiExtensions))
                .LogError(exception, "The model gateway failed on {Path}.", context.Request.Path);
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "server_error", "internal_error",
                $"The model gateway failed. Quote trace id {System.Diagnostics.Activity.Current?.TraceId.ToHexString()} when reporting it.");
            return Results.Empty;
        }
    }
}
