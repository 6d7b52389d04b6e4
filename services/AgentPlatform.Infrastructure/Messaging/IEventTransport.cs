using AgentPlatform.Domain.Messaging;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// The bus behind the outbox: only the <see cref="OutboxDispatcher"/> publishes and only the consumer host
/// subscribes. Adapters: <see cref="InProcessEventTransport"/> (embedded) and <see cref="KafkaEventTransport"/>.
/// </summary>
internal interface IEventTransport
{
    /// <summary>
    /// Publishes <paramref name="events"/> in order and reports how many of them, counted from the first, the bus
    /// now holds durably; publishing stops at the first failure, which is reported instead of thrown (also when
    /// <paramref name="cancellationToken"/> ends the wait). Events after the reported prefix may still reach the
    /// bus; they are published again later, which at-least-once delivery allows.
    /// </summary>
    Task<PublishResult> PublishAsync(IReadOnlyList<EventEnvelope> events, CancellationToken cancellationToken);

    /// <summary>
    /// Delivers the subscription's events to <paramref name="handle"/> one at a time until
    /// <paramref name="cancellationToken"/> is cancelled, then completes. An event is acknowledged once
    /// <paramref name="handle"/> returns; when it throws, the event is delivered again. The subscription is
    /// attached before this method first yields, so an event published after it returned its task reaches it.
    /// </summary>
    Task RunSubscriptionAsync(EventSubscription subscription, Func<EventEnvelope, CancellationToken, Task> handle, CancellationToken cancellationToken);
}

/// <param name="Published">How many events, counted from the first, the bus holds.</param>
/// <param name="Failure">Why the next event could not be published; <see langword="null"/> when all were.</param>
internal readonly record struct PublishResult(int Published, Exception? Failure);

/// <summary>A subscription (consumer group) and the topics it consumes.</summary>
internal sealed record EventSubscription(string Name, IReadOnlyList<string> Topics);
