using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Knowledge;

/// <summary>A document an indexer has claimed: which tenant's, and which attempt this is.</summary>
public sealed record ClaimedDocument(Guid Id, string TenantId, int Attempt);

/// <summary>
/// Leases on knowledge documents in the relational store. Every change is one conditional statement on the document's
/// row, so any number of Workers can compete on SQLite or PostgreSQL and exactly one wins each document: a document is
/// free when it is <c>pending</c> (and its retry time has come) or <c>indexing</c> under an expired lease — the
/// lease of a Worker that crashed or hung.
/// </summary>
public sealed class KnowledgeLeases(IServiceScopeFactory scopeFactory, TimeProvider timeProvider, IOptionsMonitor<KnowledgeOptions> options)
{
    /// <summary>
    /// Claims up to <paramref name="max"/> free documents for <paramref name="owner"/>, oldest first, counting an attempt
    /// on each — but none of <paramref name="indexingHere"/>: a document this owner is still indexing under a lease
    /// that lapsed (a late renewal) is not indexed a second time beside itself.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDocument>> ClaimAsync(string owner, int max, IReadOnlyCollection<Guid> indexingHere, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var now = Now();
        var excluded = indexingHere.ToArray();
        var candidates = await Free(db, now).Where(d => !excluded.Contains(d.Id))
            .OrderBy(d => d.CreatedAt).Select(d => d.Id).Take(max).ToListAsync(cancellationToken);

        var claimed = new List<ClaimedDocument>(candidates.Count);
        var expiresAt = now + options.CurrentValue.LeaseDuration;
        foreach (var id in candidates)
        {
            var won = await Free(db, now).Where(d => d.Id == id)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(d => d.Status, KnowledgeDocumentStatuses.Indexing)
                    .SetProperty(d => d.LeaseOwner, owner)
                    .SetProperty(d => d.LeaseExpiresAt, expiresAt)
                    .SetProperty(d => d.RetryAt, (DateTime?)null)
                    .SetProperty(d => d.Attempts, d => d.Attempts + 1)
                    .SetProperty(d => d.UpdatedAt, now), cancellationToken);
            if (won == 1)
            {
                var document = await Documents(db).Where(d => d.Id == id && d.LeaseOwner == owner)
                    .Select(d => new ClaimedDocument(d.Id, d.TenantId, d.Attempts)).SingleOrDefaultAsync(cancellationToken);
                if (document is not null)
                {
                    claimed.Add(document);
                }
            }
        }

        return claimed;
    }

    /// <summary>Extends <paramref name="owner"/>'s lease; false when it no longer holds the document (expired and taken, or deleted).</summary>
    public async Task<bool> RenewAsync(Guid documentId, string owner, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var expiresAt = Now() + options.CurrentValue.LeaseDuration;
        return await Held(db, documentId, owner)
            .ExecuteUpdateAsync(set => set.SetProperty(d => d.LeaseExpiresAt, expiresAt), cancellationToken) == 1;
    }

    /// <summary>
    /// Hands a document back as <c>pending</c> without counting the attempt, for a Worker that is stopping: another
    /// (or this one, after a restart) takes it up at once instead of waiting for the lease to expire.
    /// </summary>
    public async Task ReleaseAsync(Guid documentId, string owner, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        await Held(db, documentId, owner).ExecuteUpdateAsync(set => set
            .SetProperty(d => d.Status, KnowledgeDocumentStatuses.Pending)
            .SetProperty(d => d.LeaseOwner, (string?)null)
            .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(d => d.Attempts, d => d.Attempts - 1)
            .SetProperty(d => d.UpdatedAt, Now()), cancellationToken);
    }

    /// <summary>
    /// Records a failed attempt: <c>failed</c> for good when <paramref name="final"/>, otherwise <c>pending</c> again
    /// after the retry delay (times <paramref name="attempts"/>, the attempts made so far). Nothing happens when
    /// <paramref name="owner"/> no longer holds the document.
    /// </summary>
    public async Task RecordFailureAsync(Guid documentId, string owner, int attempts, string error, bool final, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var now = Now();
        var message = error.Length > KnowledgeDocument.MaxErrorLength ? error[..KnowledgeDocument.MaxErrorLength] : error;
        DateTime? retryAt = final ? null : now + (options.CurrentValue.RetryDelay * attempts);
        await Held(db, documentId, owner).ExecuteUpdateAsync(set => set
            .SetProperty(d => d.Status, final ? KnowledgeDocumentStatuses.Failed : KnowledgeDocumentStatuses.Pending)
            .SetProperty(d => d.Error, message)
            .SetProperty(d => d.Attempts, attempts)
            .SetProperty(d => d.RetryAt, retryAt)
            .SetProperty(d => d.LeaseOwner, (string?)null)
            .SetProperty(d => d.LeaseExpiresAt, (DateTime?)null)
            .SetProperty(d => d.UpdatedAt, now), cancellationToken);
    }

    // PostgreSQL keeps microseconds: what is written must equal what is read back.
    internal DateTime Now()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
    }

    internal static IQueryable<KnowledgeDocument> Held(AgentPlatformDbContext db, Guid documentId, string owner) =>
        Documents(db).Where(d => d.Id == documentId && d.Status == KnowledgeDocumentStatuses.Indexing && d.LeaseOwner == owner);

    private static IQueryable<KnowledgeDocument> Free(AgentPlatformDbContext db, DateTime now) =>
        Documents(db).Where(d =>
            (d.Status == KnowledgeDocumentStatuses.Pending && (d.RetryAt == null || d.RetryAt <= now))
            || (d.Status == KnowledgeDocumentStatuses.Indexing && (d.LeaseExpiresAt == null || d.LeaseExpiresAt <= now)));

    private static IQueryable<KnowledgeDocument> Documents(AgentPlatformDbContext db) =>
        db.KnowledgeDocuments.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]);

    private AsyncServiceScope SystemScope(out AgentPlatformDbContext db)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return scope;
    }
}
