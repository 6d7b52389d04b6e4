using System.Buffers.Binary;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// Refresh tokens: <c>rt_</c> + 256 random bits, stored as SHA-256. A family's id is a version-7 GUID made at
/// sign-in, so it carries the family's start: each token expires <see cref="TokenServiceOptions.RefreshTokenLifetime"/>
/// after it was issued, but never later than <see cref="TokenServiceOptions.RefreshTokenFamilyLifetime"/> after
/// the sign-in.
/// </summary>
internal static class RefreshTokens
{
    public const string UserSubject = "user";

    public static (RefreshToken Entity, string Value) Create(UserAccount user, Guid familyId, DateTime now, TokenServiceOptions options)
    {
        var value = Secrets.Generate(Secrets.RefreshTokenPrefix);
        var familyEnds = FamilyStart(familyId) + options.RefreshTokenFamilyLifetime;
        var slidingEnd = now + options.RefreshTokenLifetime;
        var entity = new RefreshToken
        {
            Id = Guid.CreateVersion7(now),
            TenantId = user.TenantId,
            FamilyId = familyId,
            TokenHash = Secrets.Hash(value),
            SubjectType = UserSubject,
            SubjectId = user.Id.ToString(),
            SecurityStamp = user.SecurityStamp,
            CreatedAt = now,
            ExpiresAt = slidingEnd < familyEnds ? slidingEnd : familyEnds,
            Version = Guid.NewGuid(),
        };
        return (entity, value);
    }

    /// <summary>Revokes every live token of the family in the current transaction; the number revoked.</summary>
    public static Task<int> RevokeFamilyAsync(AgentPlatformDbContext db, Guid familyId, DateTime now, string reason, CancellationToken cancellationToken)
    {
        // A new version makes any concurrent rotation of a family member fail its concurrency check and see the revocation.
        var version = Guid.NewGuid();
        return db.RefreshTokens
            .Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(t => t.RevokedAt, now)
                .SetProperty(t => t.RevocationReason, reason)
                .SetProperty(t => t.Version, version), cancellationToken);
    }

    /// <summary>The timestamp of a version-7 GUID (RFC 9562 §5.7: the first 48 bits are Unix milliseconds).</summary>
    private static DateTime FamilyStart(Guid familyId)
    {
        Span<byte> bytes = stackalloc byte[16];
        familyId.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) >> 16);
        return DateTime.UnixEpoch.AddMilliseconds(milliseconds);
    }
}
