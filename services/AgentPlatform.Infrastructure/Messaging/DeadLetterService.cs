using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>Filters and paging for <see cref="DeadLetterService.ListAsync"/>; newest failures first.</summary>
public sealed record DeadLetterQuery
{
    public const int MaxTake = 200;

    public string? Subscription { get; init; }

    public string? Topic { get; init; }

    public string? Type { get; init; }

    /// <summary><see langword="true"/>: only replayed ones; <see langword="false"/>: only those never replayed.</summary>
    public bool? Replayed { get; init; }

    /// <summary>Failed at or after this time (UTC).</summary>
    public DateTime? FailedFrom { get; init; }

    /// <summary>Failed before this time (UTC).</summary>
    public DateTime? FailedBefore { get; init; }

    public int Skip { get; init; }

    public int Take { get; init; } = 50;
}

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, int TotalCount);

/// <summary>
/// The current tenant's dead letters: what failed where, and replaying it. A replay publishes the event again,
/// through the outbox, with its original id, topic, type, payload and headers, aimed (by
/// <see cref="EventHeaders.TargetSubscription"/>) at the subscription that failed: every other subscription
/// handled the event the first time and skips it.
/// </summary>
public sealed class DeadLetterService(AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider)
{
    public async Task<DeadLetterPage> ListAsync(DeadLetterQuery query, CancellationToken cancellationToken)
    {
        RequireTenant();
        ArgumentOutOfRangeException.ThrowIfNegative(query.Skip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Take);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Take, DeadLetterQuery.MaxTake);

        var deadLetters = db.DeadLetters.AsNoTracking();
        if (query.Subscription is { } subscription)
        {
            deadLetters = deadLetters.Where(d => d.Subscription == subscription);
        }

        if (query.Topic is { } topic)
        {
            deadLetters = deadLetters.Where(d => d.Topic == topic);
        }

        if (query.Type is { } type)
        {
            deadLetters = deadLetters.Where(d => d.Type == type);
        }

        if (query.Replayed is { } replayed)
        {
            deadLetters = replayed ? deadLetters.Where(d => d.ReplayedAt != null) : deadLetters.Where(d => d.ReplayedAt == null);
        }

        if (query.FailedFrom is { } from)
        {
            deadLetters = deadLetters.Where(d => d.FailedAt >= from);
        }

        if (query.FailedBefore is { } before)
        {
            deadLetters = deadLetters.Where(d => d.FailedAt < before);
        }

        var total = await deadLetters.CountAsync(cancellationToken);
        var items = await deadLetters
            .OrderByDescending(d => d.FailedAt).ThenByDescending(d => d.Id)
            .Skip(query.Skip).Take(query.Take)
            .ToListAsync(cancellationToken);
        return new DeadLetterPage(items, total);
    }

    public Task<DeadLetter?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        RequireTenant();
        return db.DeadLetters.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
    }

    /// <summary>
    /// Publishes the dead letter again for its subscription; <see langword="null"/> when the current tenant has
    /// no dead letter <paramref name="id"/>. Marking it replayed, queueing the event and the audit record commit
    /// together.
    /// </summary>
    public async Task<DeadLetter?> ReplayAsync(Guid id, CancellationToken cancellationToken)
    {
        RequireTenant();
        var deadLetter = await db.DeadLetters.SingleOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (deadLetter is null)
        {
            return null;
        }

        var before = new { deadLetter.ReplayCount, deadLetter.ReplayedAt };
        deadLetter.ReplayedAt = timeProvider.GetUtcNow().UtcDateTime;
        deadLetter.ReplayCount++;

        var headers = new Dictionary<string, string>(EventHeaderSerializer.Deserialize(deadLetter.Headers), StringComparer.Ordinal)
        {
            [EventHeaders.TargetSubscription] = deadLetter.Subscription,
        };
        db.OutboxMessages.Add(OutboxMessage.From(new EventEnvelope
        {
            Id = deadLetter.EventId,
            Topic = deadLetter.Topic,
            Type = deadLetter.Type,
            TenantId = deadLetter.TenantId,
            Key = deadLetter.Key,
            OccurredAt = deadLetter.OccurredAt,
            Payload = deadLetter.Payload,
            Headers = headers,
        }));
        await auditTrail.SaveChangesAsync(
            new AuditEntry("dead-letter.replayed", "dead-letter", deadLetter.Id.ToString())
            {
                Before = before,
                After = new { deadLetter.ReplayCount, deadLetter.ReplayedAt },
                Details = new { deadLetter.Subscription, deadLetter.Topic, deadLetter.Type, deadLetter.EventId },
            },
            cancellationToken);
        return deadLetter;
    }

    private void RequireTenant()
    {
        if (db.TenantContext.TenantId is null)
        {
            throw new TenantAccessException("Dead letters belong to a tenant: use them in a unit of work that acts for one.");
        }
    }
}
