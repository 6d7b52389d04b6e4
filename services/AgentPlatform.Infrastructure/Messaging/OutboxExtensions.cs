using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// How producers raise events: into the outbox of their own unit of work, so the event is published exactly when
/// <c>SaveChanges</c> (or the surrounding transaction) commits the change it reports, and never when it rolls back.
/// </summary>
public static partial class OutboxExtensions
{
    private const int MaxNameLength = 200;
    private const string RepublishedEventIdHeader = "x-outbox-event-id";

    /// <summary>
    /// Adds an event for the current tenant: <paramref name="payload"/> as JSON (web defaults), a new time-ordered
    /// id, the time from the registered <see cref="TimeProvider"/>, and the current trace context.
    /// </summary>
    /// <param name="key">Events with the same key are delivered in order; defaults to the tenant.</param>
    public static EventEnvelope AddEvent<TPayload>(this AgentPlatformDbContext db, string topic, string type, TPayload payload, string? key = null)
    {
        var tenantId = db.TenantContext.TenantId
            ?? throw new TenantAccessException("An event belongs to a tenant: add it in a unit of work that acts for one, or pass a complete envelope.");
        var now = db.GetService<TimeProvider>().GetUtcNow();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } traceParent })
        {
            headers[EventHeaders.TraceParent] = traceParent;
        }

        return db.AddEvent(new EventEnvelope
        {
            Id = Guid.CreateVersion7(now),
            Topic = topic,
            Type = type,
            TenantId = tenantId,
            Key = key,
            OccurredAt = now.UtcDateTime,
            Payload = JsonSerializer.Serialize(payload, JsonSerializerOptions.Web),
            Headers = headers,
        });
    }

    /// <summary>Adds a complete envelope, for producers that state the tenant or headers themselves.</summary>
    public static EventEnvelope AddEvent(this AgentPlatformDbContext db, EventEnvelope envelope)
    {
        // Checked here, where the producer can still fix it: a name the bus rejects would block the outbox.
        if (!TopicPattern().IsMatch(envelope.Topic))
        {
            throw new ArgumentException($"'{envelope.Topic}' is not a valid topic: use 1-{MaxNameLength} letters, digits, '.', '_' or '-'.", nameof(envelope));
        }

        if (envelope.Type.Length is 0 or > MaxNameLength || envelope.Key?.Length > MaxNameLength)
        {
            throw new ArgumentException($"An event type and key must have 1-{MaxNameLength} characters.", nameof(envelope));
        }

        db.OutboxMessages.Add(OutboxMessage.From(envelope));
        return envelope;
    }

    /// <summary>
    /// An outbox row for an event that was published before (a dead letter, a replay). The event keeps its id on
    /// the bus, so consumers' de-duplication and the dead-letter record still recognise it; the row gets an id of
    /// its own because <see cref="OutboxMessage.EventId"/> is unique, and carries the event's id in a header
    /// that <see cref="ToPublishedEnvelope"/> turns back into the envelope id.
    /// </summary>
    internal static OutboxMessage Republication(EventEnvelope envelope)
    {
        var headers = new Dictionary<string, string>(envelope.Headers, StringComparer.Ordinal)
        {
            [RepublishedEventIdHeader] = envelope.Id.ToString(),
        };
        return OutboxMessage.From(envelope with { Id = Guid.CreateVersion7(), Headers = headers });
    }

    /// <summary>The envelope as the bus carries it.</summary>
    internal static EventEnvelope ToPublishedEnvelope(this OutboxMessage message)
    {
        var envelope = message.ToEnvelope();
        if (!envelope.Headers.TryGetValue(RepublishedEventIdHeader, out var eventId) || !Guid.TryParse(eventId, out var id))
        {
            return envelope;
        }

        var headers = envelope.Headers.Where(header => header.Key != RepublishedEventIdHeader).ToDictionary(StringComparer.Ordinal);
        return envelope with { Id = id, Headers = headers };
    }

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicPattern();
}
