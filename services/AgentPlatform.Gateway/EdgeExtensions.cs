using System.Diagnostics;
using Scalar.AspNetCore;

namespace AgentPlatform.Gateway;

internal static class EdgeExtensions
{
    public const string TraceIdHeader = "x-trace-id";

    /// <summary>
    /// YARP configured from the <c>ReverseProxy</c> section. Destinations are service names
    /// (<c>http://controlplane</c>) resolved through Aspire service discovery, so the same configuration
    /// works under the AppHost and in Kubernetes.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();
        return builder;
    }

    /// <summary>Every response carries the W3C trace id of its request, so a caller can quote it to support.</summary>
    public static WebApplication UseTraceIdHeader(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                if (Activity.Current is { } activity)
                {
                    context.Response.Headers[TraceIdHeader] = activity.TraceId.ToString();
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }

    /// <summary>
    /// The public API reference at <c>/api-reference</c>: the control plane's and the model gateway's OpenAPI
    /// documents, fetched through this gateway.
    /// </summary>
    public static WebApplication MapPublicApiReference(this WebApplication app)
    {
        app.MapScalarApiReference("/api-reference", options => options
            .WithTitle("AgentPlatform API")
            .AddDocument("controlplane", "Control plane", "/openapi/controlplane.json", isDefault: true)
            .AddDocument("modelgateway", "Model gateway (OpenAI-compatible)", "/openapi/modelgateway.json"))
            .AllowAnonymous();
        return app;
    }
}
