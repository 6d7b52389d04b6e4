using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace AgentPlatform.Gateway.Tracing;

/// <summary>
/// W3C trace context at the edge. Callers are not trusted to choose the platform's trace ids, sampling or
/// baggage: by default every request starts a new trace here, linked to the caller's <c>traceparent</c> (so
/// the caller's own trace can still find it), and the caller's <c>tracestate</c> and <c>baggage</c> are ignored.
/// The trace id goes back in <c>x-trace-id</c> on every response, which is what a caller quotes to support.
/// With <see cref="EdgeOptions.TrustIncomingTraceContext"/> the caller's trace simply continues.
/// </summary>
public static class EdgeTraceContext
{
    public static IHostApplicationBuilder AddEdgeTraceContext(this IHostApplicationBuilder builder)
    {
        builder.AddEdgeOptions();
        if (builder.Configuration.GetValue<bool>($"{EdgeOptions.SectionName}:{nameof(EdgeOptions.TrustIncomingTraceContext)}"))
        {
            return builder;
        }

        // ASP.NET Core extracts the parent of a request's activity with the DI-registered propagator, and
        // OpenTelemetry's instrumentation extracts it again unless its own propagator is plain W3C trace context
        // (then it leaves the activity alone). Both have to agree for the edge to start a new trace.
        builder.Services.AddSingleton<DistributedContextPropagator>(new UntrustedCallerPropagator());
        Sdk.SetDefaultTextMapPropagator(new TraceContextPropagator());
        return builder;
    }

    /// <summary>
    /// Links each request's activity to the caller's trace context (unless it continues it) and puts the trace
    /// id in <c>x-trace-id</c> on every response, errors included.
    /// </summary>
    public static WebApplication UseEdgeTraceContext(this WebApplication app)
    {
        var trustCaller = app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.TrustIncomingTraceContext;
        app.Use((context, next) =>
        {
            var activity = context.Features.Get<IHttpActivityFeature>()?.Activity ?? Activity.Current;
            if (!trustCaller && activity is not null
                && context.Request.Headers.TryGetValue("traceparent", out var traceParent)
                && ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var callerContext))
            {
                activity.AddLink(new ActivityLink(callerContext));
            }

            context.Response.OnStarting(() =>
            {
                if ((activity ?? Activity.Current) is { } current)
                {
                    context.Response.Headers[EdgeExtensions.TraceIdHeader] = current.TraceId.ToHexString();
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }

    /// <summary>Reads no trace context or baggage from callers; injects like the default propagator.</summary>
    private sealed class UntrustedCallerPropagator : DistributedContextPropagator
    {
        private readonly DistributedContextPropagator inner = CreateDefaultPropagator();

        public override IReadOnlyCollection<string> Fields => inner.Fields;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) => inner.Inject(activity, carrier, setter);

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        {
            traceId = null;
            traceState = null;
        }

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => null;
    }
}
