using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentPlatform.ServiceDefaults;

/// <summary>
/// Cross-cutting defaults every AgentPlatform host shares: OpenTelemetry, health checks, resilience and
/// service discovery on every HttpClient, and one error shape (RFC 9457 problem details).
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Prefix of every ActivitySource and Meter the platform itself creates.</summary>
    public const string TelemetryPrefix = "AgentPlatform.";

    private const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// <see cref="AddServiceDefaults"/> plus what every HTTP service shares: an OpenAPI document and one
    /// error shape (RFC 9457 problem details carrying the trace id).
    /// </summary>
    public static TBuilder AddHttpServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddServiceDefaults();

        // Documents list no server: a client resolves paths against wherever it fetched the document
        // from, which for the public API is the gateway.
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Servers = [];
            return Task.CompletedTask;
        }));
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var activity = Activity.Current;
            if (activity is not null)
            {
                context.ProblemDetails.Extensions["traceId"] = activity.TraceId.ToString();
            }

            // The framework's binding errors describe the client's mistake; every other exception stays private.
            if (context.Exception is BadHttpRequestException badRequest)
            {
                context.ProblemDetails.Detail = badRequest.Message;
            }
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*"))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsHealthRequest(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (ready: every check) and <c>/alive</c> (live: the process answers) in every
    /// environment, because Kubernetes probes and the AppHost need them in production too. Both are
    /// anonymous and reveal nothing but the overall status. Also publishes the service's OpenAPI document
    /// at <c>/openapi/v1.json</c>.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapHealthChecks(HealthEndpointPath).AllowAnonymous().DisableHttpMetrics();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
        }).AllowAnonymous().DisableHttpMetrics();

        return app;
    }

    /// <summary>
    /// Turns unhandled exceptions and bare status codes into problem+json responses. A request the framework
    /// could not bind (a missing or malformed parameter or body) answers with its own 4xx, never a 500.
    /// </summary>
    public static WebApplication UseProblemDetailsErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException badRequest
                ? badRequest.StatusCode
                : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }

    private static bool IsHealthRequest(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath);
}
