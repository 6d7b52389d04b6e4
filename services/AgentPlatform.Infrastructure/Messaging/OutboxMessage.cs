using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// An event waiting in the transactional outbox. It is written in the same transaction as the state change
/// it reports, so an event exists exactly when its change was committed; the dispatcher then hands it to the
/// bus, retrying while the bus is down.
/// </summary>
public sealed class OutboxMessage : ITenantOwned
{
    /// <summary>Database sequence: the dispatch order.</summary>
    public long Sequence { get; set; }

    public Guid EventId { get; set; }

    public required string Topic { get; set; }

    public required string Type { get; set; }

    public required string TenantId { get; set; }

    public string? Key { get; set; }

    public DateTime OccurredAt { get; set; }

    public required string Payload { get; set; }

    /// <summary>Headers as a JSON object.</summary>
    public required string Headers { get; set; }

    public DateTime? DispatchedAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>When the dispatcher may try again after a failed publish.</summary>
    public DateTime? NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    public static OutboxMessage From(EventEnvelope envelope) => new()
    {
        EventId = envelope.Id,
        Topic = envelope.Topic,
        Type = envelope.Type,
        TenantId = envelope.TenantId,
        Key = envelope.Key,
        OccurredAt = envelope.OccurredAt,
        Payload = envelope.Payload,
        Headers = EventHeaderSerializer.Serialize(envelope.Headers),
    };

    public EventEnvelope ToEnvelope() => new()
    {
        Id = EventId,
        Topic = Topic,
        Type = Type,
        TenantId = TenantId,
        Key = Key,
        OccurredAt = OccurredAt,
        Payload = Payload,
        Headers = EventHeaderSerializer.Deserialize(Headers),
    };
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox_messages");
        builder.HasKey(m => m.Sequence);
        builder.Property(m => m.Sequence).ValueGeneratedOnAdd();
        // Not unique: the outbox is a log of publications, and one event can be published more than once
        // (originally, to the dead-letter topic, and again when replayed), always under its own id.
        builder.HasIndex(m => m.EventId);
        builder.Property(m => m.Topic).HasMaxLength(200);
        builder.Property(m => m.Type).HasMaxLength(200);
        builder.Property(m => m.Key).HasMaxLength(200);
        builder.Property(m => m.LastError).HasMaxLength(2000);
        // The dispatcher's query: undispatched rows in sequence order.
        builder.HasIndex(m => new { m.DispatchedAt, m.Sequence });
    }
}
