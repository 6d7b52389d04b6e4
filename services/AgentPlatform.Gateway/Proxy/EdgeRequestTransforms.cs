using AgentPlatform.Gateway.Authentication;
using AgentPlatform.Infrastructure.Models;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace AgentPlatform.Gateway.Proxy;

/// <summary>
/// What every proxied request loses or gains on its way to a backend: headers a client could use to pose as
/// something it is not are removed, and an API key is replaced by the access token it was exchanged for (or
/// removed), so backends never see one. <c>X-Forwarded-For/-Proto/-Host/-Prefix</c> are not listed: YARP sets
/// them itself on every route, replacing whatever the client sent.
/// </summary>
public sealed class EdgeRequestTransforms : ITransformProvider
{
    /// <summary>Prefix reserved for headers the platform's services send each other; never accepted from outside.</summary>
    public const string InternalHeaderPrefix = "x-agentplatform-";

    /// <summary>
    /// Other proxies' client-address and URL-override headers, method overrides, the platform's correlation ids
    /// (tenant and agent ids travel as headers between services; the tenant comes only from the credential), and
    /// caller trace context: the edge starts its own trace (see <see cref="EdgeOptions.TrustIncomingTraceContext"/>)
    /// and the HTTP client injects it afresh.
    /// </summary>
    public static readonly IReadOnlyList<string> UntrustedHeaders =
    [
        "Forwarded", "X-Real-IP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
        "X-Cluster-Client-IP", "X-Original-For", "X-Original-Host", "X-Original-Proto", "X-Original-URL",
        "X-Rewrite-URL", "X-Forwarded-Server", "X-Forwarded-Port", "X-Forwarded-Ssl", "X-Forwarded-Scheme",
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
        "x-tenant-id", ModelCallHeaders.TaskId, ModelCallHeaders.MainAgentId, ModelCallHeaders.SubAgentId, EdgeExtensions.TraceIdHeader,
        "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context",
    ];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(static transform =>
    {
        var headers = transform.ProxyRequest.Headers;
        foreach (var name in UntrustedHeaders)
        {
            headers.Remove(name);
        }

        foreach (var name in transform.HttpContext.Request.Headers.Keys)
        {
            if (name.StartsWith(InternalHeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                headers.Remove(name);
            }
        }

        if (transform.HttpContext.Features.Get<ExchangedCredential>() is { } exchanged)
        {
            headers.Remove(HeaderNames.Authorization);
            headers.TryAddWithoutValidation(HeaderNames.Authorization, $"Bearer {exchanged.AccessToken}");
        }
        else if (ApiKeyExchange.TryGetApiKey(transform.HttpContext.Request, out _))
        {
            headers.Remove(HeaderNames.Authorization);
        }

        return ValueTask.CompletedTask;
    });
}
