using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Telemetry;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>Traces and metrics of the event bus: outbox lag and failures, and what each subscription did.</summary>
internal sealed class EventBusTelemetry
{
    public const string Name = "AgentPlatform.Messaging";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Counter<long> published;
    private readonly Counter<long> publishFailures;
    private readonly Counter<long> consumed;
    private readonly Counter<long> handlerFailures;
    private double lagSeconds;

    public EventBusTelemetry(IMeterFactory meterFactory)
    {
        // The factory owns the meter and disposes it with the container.
        var meter = meterFactory.Create(Name);
        published = meter.CreateCounter<long>("agentplatform.outbox.published", "{event}", "Events the outbox dispatcher handed to the bus.");
        publishFailures = meter.CreateCounter<long>("agentplatform.outbox.publish_failures", "{failure}", "Failed publishes; the event stays in the outbox and is retried.");
        meter.CreateObservableGauge("agentplatform.outbox.lag", () => Volatile.Read(ref lagSeconds), "s", "Age of the oldest event waiting in the outbox, as of the last dispatch pass.");
        consumed = meter.CreateCounter<long>("agentplatform.events.consumed", "{event}", "Events a subscription finished with, by outcome: handled, skipped or dead_lettered.");
        handlerFailures = meter.CreateCounter<long>("agentplatform.events.handler_failures", "{failure}", "Failed handler attempts; the event is retried, then dead-lettered.");
    }

    public void Published(int count) => published.Add(count);

    public void PublishFailed() => publishFailures.Add(1);

    public void ObserveLag(TimeSpan lag) => Volatile.Write(ref lagSeconds, Math.Max(0, lag.TotalSeconds));

    public void Consumed(EventSubscription subscription, string outcome) =>
        consumed.Add(1, new KeyValuePair<string, object?>("messaging.consumer.group.name", subscription.Name), new KeyValuePair<string, object?>("outcome", outcome));

    public void HandlerFailed(EventSubscription subscription) =>
        handlerFailures.Add(1, new KeyValuePair<string, object?>("messaging.consumer.group.name", subscription.Name));

    /// <summary>
    /// The span of one subscription handling one event: a child of the operation that produced it (its
    /// <c>traceparent</c>), so the request's trace id follows the work across the bus.
    /// </summary>
    public static Activity? StartProcessActivity(EventSubscription subscription, EventEnvelope envelope)
    {
        var parent = envelope.Headers.TryGetValue(EventHeaders.TraceParent, out var traceParent)
            && ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var context)
                ? context
                : default;
        var activity = ActivitySource.StartActivity($"process {envelope.Topic}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.operation.type", "process")
            .SetTag("messaging.destination.name", envelope.Topic)
            .SetTag("messaging.consumer.group.name", subscription.Name)
            .SetTag("messaging.message.id", envelope.Id.ToString())
            .SetTag("agentplatform.event.type", envelope.Type)
            .SetTag(PlatformTags.TenantId, envelope.TenantId);
        return activity;
    }
}
