using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.Infrastructure.Audit;

/// <summary>
/// The tenant's append-only, hash-chained audit trail. State-changing code saves through
/// <see cref="SaveChangesAsync(IReadOnlyList{AuditEntry}, CancellationToken)"/>: its pending changes, the audit records and their events commit in one
/// transaction, so there is never a change without its record or a record without its change.
/// </summary>
public sealed class AuditTrail(AgentPlatformDbContext db, IHttpContextAccessor httpContextAccessor, TimeProvider timeProvider)
{
    public const string Topic = EventTopics.Prefix + "audit";
    public const string RecordedEventType = "audit.recorded.v1";

    /// <summary>The previous hash of a chain's first record.</summary>
    public static readonly string GenesisHash = new('0', 64);

    private const int MaxAttempts = 10;

    /// <summary>
    /// Saves the context's pending changes together with <paramref name="entries"/> appended to the current
    /// tenant's chain. Concurrent appends of one tenant are serialized by the chain head's concurrency check:
    /// the loser recomputes its records on the new head and saves again.
    /// </summary>
    public async Task SaveChangesAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var tenantId = db.TenantContext.TenantId
            ?? throw new TenantAccessException("Audit records belong to a tenant: save them in a unit of work that acts for one.");

        for (var attempt = 1; ; attempt++)
        {
            var added = await AppendAsync(tenantId, entries, cancellationToken);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException exception) when (attempt < MaxAttempts && db.Database.CurrentTransaction is null && IsChainConflict(exception))
            {
                // Another append moved the head (or created it) first: drop what this attempt added, re-read the
                // head and build the records again. The caller's own changes stay tracked and are saved again.
                foreach (var entity in added)
                {
                    db.Entry(entity).State = EntityState.Detached;
                }

                foreach (var head in db.ChangeTracker.Entries<AuditChainHead>().ToList())
                {
                    head.State = EntityState.Detached;
                }
            }
        }
    }

    public Task SaveChangesAsync(AuditEntry entry, CancellationToken cancellationToken) => SaveChangesAsync([entry], cancellationToken);

    // Only a lost race for the chain is worth retrying; a conflict on the caller's own rows would fail again.
    private static bool IsChainConflict(DbUpdateException exception) =>
        exception.Entries.Count > 0 && exception.Entries.All(entry => entry.Entity is AuditChainHead or AuditRecord);

    /// <summary>
    /// Recomputes the current tenant's chain. Valid when every record's hash matches its content and its
    /// predecessor, sequences have no gap, and the head points at the last record.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var expectedPrevious = GenesisHash;
        long expectedSequence = 1;
        await foreach (var record in db.AuditRecords.AsNoTracking().OrderBy(r => r.Sequence).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (record.Sequence != expectedSequence)
            {
                return AuditVerification.Broken(expectedSequence - 1, record.Sequence, $"Record {expectedSequence} is missing.");
            }

            if (record.PreviousHash != expectedPrevious || ComputeHash(record) != record.Hash)
            {
                return AuditVerification.Broken(expectedSequence - 1, record.Sequence, $"Record {record.Sequence} does not match its hash.");
            }

            expectedPrevious = record.Hash;
            expectedSequence++;
        }

        var last = expectedSequence - 1;
        var head = await db.AuditChainHeads.AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if ((head?.LastSequence ?? 0) != last || (head?.LastHash ?? GenesisHash) != expectedPrevious)
        {
            return AuditVerification.Broken(last, last + 1, "The chain's head does not point at its last record: records were removed from the end.");
        }

        return AuditVerification.Valid(last, expectedPrevious);
    }

    /// <summary>The hash of a record: SHA-256 over a canonical JSON array of its fields and its predecessor's hash.</summary>
    public static string ComputeHash(AuditRecord record)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(new object?[]
        {
            record.TenantId, record.Sequence, record.OccurredAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            record.ActorType, record.ActorId, record.Action, record.TargetType, record.TargetId,
            record.BeforeDigest, record.AfterDigest, record.TraceId, record.Details, record.PreviousHash,
        });
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }

    /// <summary>SHA-256 of a state's JSON, or null when there is no state.</summary>
    public static string? Digest(object? state) =>
        state is null ? null : Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(state, JsonSerializerOptions.Web)));

    private async Task<List<object>> AppendAsync(string tenantId, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var added = new List<object>();
        var head = await db.AuditChainHeads.SingleOrDefaultAsync(cancellationToken);
        if (head is null)
        {
            head = new AuditChainHead { TenantId = tenantId, LastSequence = 0, LastHash = GenesisHash };
            db.AuditChainHeads.Add(head);
        }

        // Microsecond precision: what PostgreSQL stores is what the hash covered.
        var now = timeProvider.GetUtcNow().UtcDateTime;
        now = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
        var traceId = Activity.Current?.TraceId.ToString();
        foreach (var entry in entries)
        {
            var actor = entry.Actor ?? CurrentActor();
            var record = new AuditRecord
            {
                Id = Guid.CreateVersion7(timeProvider.GetUtcNow()),
                TenantId = tenantId,
                Sequence = head.LastSequence + 1,
                OccurredAt = now,
                ActorType = actor.Type,
                ActorId = actor.Id,
                Action = entry.Action,
                TargetType = entry.TargetType,
                TargetId = entry.TargetId,
                BeforeDigest = Digest(entry.Before),
                AfterDigest = Digest(entry.After),
                TraceId = traceId,
                Details = entry.Details is null ? null : JsonSerializer.Serialize(entry.Details, JsonSerializerOptions.Web),
                PreviousHash = head.LastHash,
                Hash = "",
            };
            record.Hash = ComputeHash(record);
            head.LastSequence = record.Sequence;
            head.LastHash = record.Hash;
            db.AuditRecords.Add(record);
            added.Add(record);
            db.AddEvent(Topic, RecordedEventType, new
            {
                record.Id, record.Sequence, record.OccurredAt, record.ActorType, record.ActorId, record.Action,
                record.TargetType, record.TargetId, record.BeforeDigest, record.AfterDigest, record.TraceId, record.Hash,
            }, key: tenantId);
            added.Add(db.ChangeTracker.Entries<OutboxMessage>().Last().Entity);
        }

        return added;
    }

    private AuditActor CurrentActor()
    {
        var user = httpContextAccessor.HttpContext?.User;
        if (user?.Identity?.IsAuthenticated != true)
        {
            return AuditActor.System;
        }

        if (user.FindFirst(PlatformClaims.ApiKeyId)?.Value is { } apiKeyId)
        {
            return new AuditActor(AuditActor.ApiKey, apiKeyId);
        }

        var subject = user.FindFirst(PlatformClaims.Subject)?.Value ?? "unknown";
        return user.FindFirst(PlatformClaims.ClientId)?.Value is { } clientId && clientId == subject
            ? new AuditActor(AuditActor.Client, clientId)
            : new AuditActor(AuditActor.User, subject);
    }
}

/// <summary>The outcome of <see cref="AuditTrail.VerifyAsync"/>.</summary>
public sealed record AuditVerification(bool IsValid, long VerifiedRecords, string? LastHash, long? FirstInvalidSequence, string? Problem)
{
    public static AuditVerification Valid(long records, string lastHash) => new(true, records, lastHash, null, null);

    public static AuditVerification Broken(long verified, long firstInvalid, string problem) => new(false, verified, null, firstInvalid, problem);
}
