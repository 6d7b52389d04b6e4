using System.Security.Cryptography;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// The claim check over the relational store (metadata, tenant-filtered) and an <see cref="IBlobStorage"/>
/// (bytes). The same content of one tenant is stored once per generation (see <see cref="PayloadBlob"/>): a
/// put reuses a live generation by raising its expiry in one conditional statement, and uploads a new one
/// when none is live, so <see cref="PayloadCleanup"/> can never delete bytes that a reference still needs.
/// </summary>
public sealed class PayloadStore(
    AgentPlatformDbContext db,
    ITenantContext tenantContext,
    IBlobStorage blobStorage,
    IOptions<ClaimCheckOptions> options,
    TimeProvider timeProvider,
    ILogger<PayloadStore> logger) : IPayloadStore
{
    public const string ReferencePrefix = "ref_";

    private const int MaxContentTypeLength = 200;

    public async Task<PayloadReference> PutAsync(Stream content, string contentType, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrWhiteSpace(contentType);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(contentType.Length, MaxContentTypeLength, nameof(contentType));
        var tenantId = tenantContext.TenantId
            ?? throw new TenantAccessException("Payloads can only be stored for a tenant.");
        var ttl = timeToLive ?? options.Value.DefaultTimeToLive;
        if (ttl <= TimeSpan.Zero || ttl > options.Value.MaxTimeToLive)
        {
            throw new ArgumentOutOfRangeException(nameof(timeToLive), ttl, $"The time to live must be positive and at most {options.Value.MaxTimeToLive}.");
        }

        await using var spooled = await SpooledContent.CreateAsync(content, cancellationToken);
        var now = Now();
        var expiresAt = TruncateToMicroseconds(now + ttl);

        var blobId = await ExtendLiveBlobAsync(spooled.Sha256, now, expiresAt, cancellationToken);
        string? uploadedKey = null;
        PayloadBlob? newBlob = null;
        if (blobId is null)
        {
            // Bytes first, row second: a row is only ever visible for bytes that are fully stored.
            var generation = Guid.CreateVersion7(timeProvider.GetUtcNow());
            var key = BlobKey.ForPayload(tenantId, spooled.Sha256, generation);
            try
            {
                await blobStorage.PutAsync(key, spooled.Content, spooled.Length, cancellationToken);
            }
            catch
            {
                await DeleteUnreferencedAsync(key);
                throw;
            }

            uploadedKey = key;
            newBlob = new PayloadBlob
            {
                Id = generation,
                TenantId = tenantId,
                Sha256 = spooled.Sha256,
                Size = spooled.Length,
                StorageKey = key,
                CreatedAt = now,
                ExpiresAt = expiresAt,
            };
            db.PayloadBlobs.Add(newBlob);
            blobId = generation;
        }

        var record = new PayloadRecord
        {
            Id = ReferencePrefix + RandomNumberGenerator.GetHexString(32, lowercase: true),
            TenantId = tenantId,
            BlobId = blobId.Value,
            Sha256 = spooled.Sha256,
            Size = spooled.Length,
            ContentType = contentType,
            CreatedAt = now,
            ExpiresAt = expiresAt,
        };
        db.PayloadRecords.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            db.Entry(record).State = EntityState.Detached;
            if (newBlob is not null)
            {
                db.Entry(newBlob).State = EntityState.Detached;
            }

            if (uploadedKey is not null)
            {
                await DeleteUnreferencedAsync(uploadedKey);
            }

            throw;
        }

        return ToReference(record);
    }

    public async Task<PayloadReference?> GetAsync(string referenceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(referenceId);
        var now = Now();
        var record = await db.PayloadRecords.AsNoTracking()
            .Where(r => r.Id == referenceId && r.ExpiresAt > now)
            .FirstOrDefaultAsync(cancellationToken);
        return record is null ? null : ToReference(record);
    }

    public async Task<PayloadContent?> OpenReadAsync(string referenceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(referenceId);
        var now = Now();
        var found = await db.PayloadRecords.AsNoTracking()
            .Where(r => r.Id == referenceId && r.ExpiresAt > now)
            .Join(db.PayloadBlobs.AsNoTracking(), r => r.BlobId, b => b.Id, (r, b) => new { Record = r, b.StorageKey })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        // A live reference keeps its blob alive, so missing bytes mean the storage lost data: fail loudly.
        var stream = await blobStorage.OpenReadAsync(found.StorageKey, cancellationToken)
            ?? throw new InvalidOperationException($"The bytes of payload '{referenceId}' are missing from the blob storage (key '{found.StorageKey}').");
        return new PayloadContent(ToReference(found.Record), stream);
    }

    /// <summary>
    /// Raises the expiry of a live generation of this content to at least <paramref name="expiresAt"/> and
    /// returns its id, or null when there is none. The update re-checks that the row is still live, so it
    /// either wins against a concurrent cleanup (which then leaves the row alone) or affects nothing.
    /// </summary>
    private async Task<Guid?> ExtendLiveBlobAsync(string sha256, DateTime now, DateTime expiresAt, CancellationToken cancellationToken)
    {
        var candidate = await db.PayloadBlobs.AsNoTracking()
            .Where(b => b.Sha256 == sha256 && b.ExpiresAt > now)
            .OrderByDescending(b => b.ExpiresAt)
            .Select(b => (Guid?)b.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (candidate is not { } id)
        {
            return null;
        }

        var extended = await db.PayloadBlobs
            .Where(b => b.Id == id && b.ExpiresAt > now)
            .ExecuteUpdateAsync(set => set.SetProperty(b => b.ExpiresAt, b => b.ExpiresAt > expiresAt ? b.ExpiresAt : expiresAt), cancellationToken);
        return extended == 1 ? id : null;
    }

    private async Task DeleteUnreferencedAsync(string key)
    {
        try
        {
            // Not cancellable: the put is being abandoned, and bytes without a row would never be cleaned up.
            await blobStorage.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Could not delete the unreferenced payload object {StorageKey}; remove it by hand.", key);
        }
    }

    // PostgreSQL keeps microseconds: what a put returns must equal what a later read returns.
    private DateTime Now() => TruncateToMicroseconds(timeProvider.GetUtcNow().UtcDateTime);

    private static DateTime TruncateToMicroseconds(DateTime value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);

    private static PayloadReference ToReference(PayloadRecord record) =>
        new(record.Id, record.TenantId, record.Sha256, record.Size, record.ContentType, record.CreatedAt, record.ExpiresAt);
}
