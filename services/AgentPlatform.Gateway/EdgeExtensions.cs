using System.Net;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Gateway.Errors;
using AgentPlatform.Gateway.Proxy;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;
using Yarp.ReverseProxy.Model;

namespace AgentPlatform.Gateway;

internal static class EdgeExtensions
{
    public const string TraceIdHeader = "x-trace-id";

    /// <summary>
    /// YARP configured from the <c>ReverseProxy</c> section. Destinations are service names
    /// (<c>http://controlplane</c>) resolved through Aspire service discovery, so the same configuration
    /// works under the AppHost and in Kubernetes. Each route names its authorization and rate limiter policy,
    /// its body size limit and its error format; a route that names no authorization policy requires an
    /// authenticated caller (the fallback policy).
    /// </summary>
    public static IHostApplicationBuilder AddEdgeProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms<EdgeRequestTransforms>();

        builder.AddEdgeOptions();
        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<EdgeOptions>>((forwarded, edge) =>
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var proxy in edge.Value.TrustedProxies)
                {
                    forwarded.KnownIPNetworks.Add(ParseNetwork(proxy));
                }
            });
        return builder;
    }

    /// <summary>The <see cref="EdgeOptions"/>, validated at start.</summary>
    public static IHostApplicationBuilder AddEdgeOptions(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(IValidateOptions<EdgeOptions>)))
        {
            return builder;
        }

        builder.Services.AddOptions<EdgeOptions>()
            .BindConfiguration(EdgeOptions.SectionName)
            .Validate(
                options => options.TrustedProxies.All(proxy => System.Net.IPNetwork.TryParse(proxy, out _) || IPAddress.TryParse(proxy, out _)),
                $"{EdgeOptions.SectionName}:{nameof(EdgeOptions.TrustedProxies)} holds addresses (10.0.0.1) or networks (10.0.0.0/8) only.")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// Believes <c>X-Forwarded-For</c>/<c>-Proto</c> only from <see cref="EdgeOptions.TrustedProxies"/>, so the
    /// client address (rate limits, logs, the <c>X-Forwarded-For</c> sent on) is the real client's behind a load
    /// balancer. Without trusted proxies nothing is believed.
    /// </summary>
    public static WebApplication UseTrustedForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    /// <summary>
    /// Answers 413 before anything else happens when a request declares a body larger than its route's
    /// <c>MaxRequestBodySize</c>. A body without a declared length is cut off at the same limit while YARP
    /// forwards it, which also answers 413.
    /// </summary>
    public static WebApplication UseRequestBodyLimits(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.MaxRequestBodySize is >= 0 and var limit
                && context.Request.ContentLength > limit)
            {
                return EdgeErrors.WriteAsync(
                    context,
                    StatusCodes.Status413PayloadTooLarge,
                    $"The request body is larger than the {limit} bytes this endpoint accepts.",
                    "request_too_large").AsTask();
            }

            return next(context);
        });
        return app;
    }

    /// <summary>
    /// Every log line written while handling an authenticated request carries its tenant (next to the request
    /// id and trace id ASP.NET Core already puts in scope), and so does the request's span.
    /// </summary>
    public static WebApplication UseCallerLogScope(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AgentPlatform.Gateway.Requests");
        app.Use(async (context, next) =>
        {
            if (context.User.GetTenantId() is not { } tenantId)
            {
                await next(context);
                return;
            }

            context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity.SetTag(PlatformTags.TenantId, tenantId);
            using (logger.BeginTenantScope(tenantId))
            {
                await next(context);
            }
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

    /// <summary>A network in CIDR notation, or a single address.</summary>
    private static System.Net.IPNetwork ParseNetwork(string proxy)
    {
        if (System.Net.IPNetwork.TryParse(proxy, out var network))
        {
            return network;
        }

        var address = IPAddress.Parse(proxy);
        return new System.Net.IPNetwork(address, address.GetAddressBytes().Length * 8);
    }
}
