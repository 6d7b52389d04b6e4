namespace AgentPlatform.Domain.Messaging;

/// <summary>
/// An integration event as it travels on the bus: an immutable, self-describing message. Producers never
/// publish directly; they add the envelope to the transactional outbox together with the state change it
/// reports, and the outbox dispatcher hands it to the bus.
/// </summary>
public sealed record EventEnvelope
{
    /// <summary>Unique per event; consumers use it to ignore a redelivery (delivery is at least once).</summary>
    public required Guid Id { get; init; }

    public required string Topic { get; init; }

    /// <summary>Past-tense, versioned event type, for example <c>task.completed.v1</c>.</summary>
    public required string Type { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Partitioning key: events with the same key are delivered in order. Defaults to the tenant.</summary>
    public string? Key { get; init; }

    public required DateTime OccurredAt { get; init; }

    /// <summary>The event body as JSON.</summary>
    public required string Payload { get; init; }

    /// <summary>Transport metadata such as <c>traceparent</c>; see <see cref="EventHeaders"/>.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public string PartitionKey => Key ?? TenantId;
}
