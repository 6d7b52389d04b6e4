using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>A signing key's id and lifecycle; never any key material.</summary>
public sealed record SigningKeyResponse(string Kid, string Algorithm, string Status, DateTime CreatedAt, DateTime ActivatesAt, DateTime RetiresAt, DateTime ExpiresAt)
{
    public const string Pending = "pending";
    public const string Active = "active";
    public const string Retired = "retired";

    public static SigningKeyResponse From(SigningKey key, DateTime now) => new(
        key.Kid,
        key.Algorithm,
        now < key.ActivatesAt ? Pending : now < key.RetiresAt ? Active : Retired,
        key.CreatedAt,
        key.ActivatesAt,
        key.RetiresAt,
        key.ExpiresAt);
}

public sealed record SigningKeyRotationResponse(SigningKeyResponse Key, IReadOnlyList<string> RetiredKids, IReadOnlyList<string> RemovedKids);

/// <summary>The platform's signing keys (platform admins): list them, rotate now or after the publish lead time.</summary>
public static class SigningKeysApi
{
    public static IEndpointRouteBuilder MapSigningKeysApi(this IEndpointRouteBuilder endpoints)
    {
        var keys = endpoints.MapGroup("/api/signing-keys").WithTags("Signing keys").RequirePermission(Permissions.SigningKeysManage);
        keys.MapGet("/", ListAsync);
        keys.MapPost("/rotate", RotateAsync);
        return endpoints;
    }

    public static async Task<Ok<IReadOnlyList<SigningKeyResponse>>> ListAsync(AgentPlatformDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var keys = await db.SigningKeys.AsNoTracking().Where(k => k.ExpiresAt > now).OrderByDescending(k => k.ActivatesAt).ToListAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SigningKeyResponse>>([.. keys.Select(k => SigningKeyResponse.From(k, now))]);
    }

    /// <summary>
    /// Creates a new key. By default it is published now and signs after the publish lead time, when the current
    /// key retires (its tokens keep validating until they expire). <c>?immediate=true</c> is the compromise
    /// response: the new key signs at once and every earlier key is retired and withdrawn from the JWKS, so
    /// tokens they signed stop validating and clients refresh. Recorded in the acting admin's tenant's audit trail.
    /// </summary>
    public static async Task<Ok<SigningKeyRotationResponse>> RotateAsync(
        bool? immediate,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        SigningKeyManager manager,
        SigningKeyRing ring,
        IdentityTelemetry telemetry,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var atOnce = immediate == true;
        RingChanges changes;
        await using (await manager.LockAsync(cancellationToken))
        {
            var keys = await db.SigningKeys.ToListAsync(cancellationToken);
            changes = manager.Rotate(keys, atOnce);
            db.SigningKeys.RemoveRange(changes.Removed);
            db.SigningKeys.AddRange(changes.Added);
            var key = changes.Added[0];
            await auditTrail.SaveChangesAsync(
                new AuditEntry("signing-key.rotated", "signing-key", key.Kid)
                {
                    Details = new
                    {
                        immediate = atOnce,
                        key.ActivatesAt,
                        retired = changes.Retired.Select(k => k.Kid).ToList(),
                        removed = changes.Removed.Select(k => k.Kid).ToList(),
                    },
                },
                cancellationToken);
        }

        ring.Invalidate();
        telemetry.KeyCreated(atOnce ? "immediate" : "admin");
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(new SigningKeyRotationResponse(
            SigningKeyResponse.From(changes.Added[0], now),
            [.. changes.Retired.Select(k => k.Kid)],
            [.. changes.Removed.Select(k => k.Kid)]));
    }
}
