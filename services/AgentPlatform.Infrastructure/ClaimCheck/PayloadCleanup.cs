using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// One cleanup pass over every tenant's claim-check data: expired references first, then generations whose
/// expiry lies more than the grace period back. A generation's row is deleted by a conditional statement
/// that re-checks its expiry, and its object only after that row is gone, so a put that extended the row
/// meanwhile keeps both. Every delete is conditional, which makes concurrent passes harmless.
/// </summary>
public sealed class PayloadCleanup(
    IServiceScopeFactory scopeFactory,
    IBlobStorage blobStorage,
    IOptions<ClaimCheckOptions> options,
    TimeProvider timeProvider,
    ILogger<PayloadCleanup> logger)
{
    private static readonly string[] TenantFilter = [AgentPlatformDbContext.TenantFilter];

    public async Task<PayloadCleanupResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var batchSize = options.Value.CleanupBatchSize;

        var records = await DeleteExpiredRecordsAsync(db, now, batchSize, cancellationToken);
        var (blobs, failures) = await DeleteExpiredBlobsAsync(db, now, now - options.Value.CleanupGracePeriod, batchSize, cancellationToken);

        var result = new PayloadCleanupResult(records, blobs, failures);
        logger.Log(result == PayloadCleanupResult.Nothing ? LogLevel.Debug : LogLevel.Information,
            "Claim-check cleanup deleted {Records} expired reference(s) and {Blobs} payload object(s); {Failures} object(s) could not be deleted.",
            result.RecordsDeleted, result.BlobsDeleted, result.ObjectDeleteFailures);
        return result;
    }

    private static async Task<int> DeleteExpiredRecordsAsync(AgentPlatformDbContext db, DateTime now, int batchSize, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (true)
        {
            var ids = await db.PayloadRecords.IgnoreQueryFilters(TenantFilter)
                .Where(r => r.ExpiresAt <= now)
                .OrderBy(r => r.ExpiresAt)
                .Select(r => r.Id)
                .Take(batchSize)
                .ToListAsync(cancellationToken);
            if (ids.Count > 0)
            {
                deleted += await db.PayloadRecords.IgnoreQueryFilters(TenantFilter)
                    .Where(r => ids.Contains(r.Id) && r.ExpiresAt <= now)
                    .ExecuteDeleteAsync(cancellationToken);
            }

            if (ids.Count < batchSize)
            {
                return deleted;
            }
        }
    }

    private async Task<(int Deleted, int Failures)> DeleteExpiredBlobsAsync(
        AgentPlatformDbContext db, DateTime now, DateTime cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var deleted = 0;
        var failures = 0;
        while (true)
        {
            var candidates = await Deletable(db, now, cutoff)
                .OrderBy(b => b.ExpiresAt)
                .Select(b => new { b.Id, b.StorageKey })
                .Take(batchSize)
                .ToListAsync(cancellationToken);

            var deletedInBatch = 0;
            foreach (var candidate in candidates)
            {
                var rows = await Deletable(db, now, cutoff).Where(b => b.Id == candidate.Id).ExecuteDeleteAsync(cancellationToken);
                if (rows == 0)
                {
                    // A put extended it, or another pass took it, since it was selected.
                    continue;
                }

                deletedInBatch++;
                try
                {
                    // Not cancellable: the row is gone, and bytes without a row would never be found again.
                    await blobStorage.DeleteAsync(candidate.StorageKey, CancellationToken.None);
                }
                catch (Exception exception)
                {
                    failures++;
                    logger.LogWarning(exception, "Could not delete the expired payload object {StorageKey}; its row is gone, remove it by hand.", candidate.StorageKey);
                }
            }

            deleted += deletedInBatch;
            if (candidates.Count < batchSize || deletedInBatch == 0)
            {
                return (deleted, failures);
            }
        }
    }

    /// <summary>
    /// Generations past the cutoff that no live reference uses. A live reference implies a later blob expiry
    /// already; checking it again costs one indexed lookup and protects the bytes even if that ever breaks.
    /// </summary>
    private static IQueryable<PayloadBlob> Deletable(AgentPlatformDbContext db, DateTime now, DateTime cutoff) =>
        db.PayloadBlobs.IgnoreQueryFilters(TenantFilter)
            .Where(b => b.ExpiresAt <= cutoff
                && !db.PayloadRecords.IgnoreQueryFilters(TenantFilter).Any(r => r.BlobId == b.Id && r.ExpiresAt > now));
}

/// <summary>What one cleanup pass did.</summary>
public sealed record PayloadCleanupResult(int RecordsDeleted, int BlobsDeleted, int ObjectDeleteFailures)
{
    public static readonly PayloadCleanupResult Nothing = new(0, 0, 0);
}
