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

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicPattern();
}
