namespace AgentPlatform.Domain.Messaging;

/// <summary>
/// Handles the events of one subscription. A subscription is a consumer group: it receives every event of
/// its topics at least once, whichever instance of the service handles it. Handlers must be idempotent
/// (use <see cref="EventEnvelope.Id"/>); an exception retries the event and finally dead-letters it.
/// </summary>
public interface IEventConsumer
{
    Task HandleAsync(EventEnvelope envelope, CancellationToken cancellationToken);
}
