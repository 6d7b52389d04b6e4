using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=refresh_token</c>: consumes the presented token (once: optimistic concurrency on its version)
/// and issues its successor in the same family, with the user's current roles. A consumed token presented again
/// within <see cref="TokenServiceOptions.RefreshTokenReuseGrace"/> gets another successor (a client's concurrent
/// retry); later it is treated as stolen and revokes the whole family (RFC 9700 §4.14.2). A disabled user or
/// tenant, or a changed security stamp (password or roles changed), revokes the family too.
/// </summary>
public sealed class RefreshTokenGrant(
    AgentPlatformDbContext db,
    TenantContext tenantContext,
    AuditTrail auditTrail,
    AccessTokenIssuer issuer,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    IdentityTelemetry telemetry,
    ILogger<RefreshTokenGrant> logger)
{
    private static readonly OAuthError Invalid = OAuthError.InvalidGrant("The refresh token is invalid, expired or revoked.");
    private static readonly AuditActor Anonymous = new(AuditActor.Anonymous, "anonymous");

    public async Task<OAuthResult> HandleAsync(TokenRequest request, CancellationToken cancellationToken)
    {
        var presented = request["refresh_token"];
        if (presented is null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest("The refresh_token grant needs 'refresh_token'."));
        }

        if (!Secrets.IsWellFormed(presented, Secrets.RefreshTokenPrefix))
        {
            return OAuthResult.Error(Invalid);
        }

        var hash = Secrets.Hash(presented);
        var tenantId = await db.RefreshTokens.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .Where(t => t.TokenHash == hash)
            .Select(t => t.TenantId)
            .SingleOrDefaultAsync(cancellationToken);
        if (tenantId is null)
        {
            return OAuthResult.Error(Invalid);
        }

        tenantContext.SetTenant(tenantId);
        return await OptimisticRetry.RunAsync(db, async () =>
        {
            var token = await db.RefreshTokens.SingleAsync(t => t.TokenHash == hash, cancellationToken);
            var now = timeProvider.GetUtcNow().UtcDateTime;
            if (token.ExpiresAt <= now)
            {
                return OAuthResult.Error(Invalid);
            }

            if (token.RevokedAt is not null
                || await db.RefreshTokens.AnyAsync(t => t.FamilyId == token.FamilyId && t.RevokedAt != null, cancellationToken))
            {
                // A family is revoked as a whole: a successor issued while a revocation ran follows it now.
                await RevokeFamilyAsync(token, now, "family-revoked", cancellationToken);
                return OAuthResult.Error(Invalid);
            }

            if (token.ConsumedAt is { } consumedAt && now - consumedAt > options.Value.RefreshTokenReuseGrace)
            {
                await RevokeFamilyAsync(token, now, "reuse-detected", cancellationToken);
                telemetry.RefreshTokenReused();
                logger.LogWarning("Refresh token {TokenId} of family {FamilyId} was presented again {Elapsed} after its use; the family is revoked.",
                    token.Id, token.FamilyId, now - consumedAt);
                return OAuthResult.Error(Invalid);
            }

            var user = token.SubjectType == RefreshTokens.UserSubject && Guid.TryParse(token.SubjectId, out var userId)
                ? await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken)
                : null;
            if (user is null || user.DisabledAt is not null || user.SecurityStamp != token.SecurityStamp
                || !await db.Tenants.AnyAsync(t => t.Id == token.TenantId && t.DisabledAt == null, cancellationToken))
            {
                await RevokeFamilyAsync(token, now, "subject-changed", cancellationToken);
                return OAuthResult.Error(Invalid);
            }

            return await RotateAsync(token, user, now, cancellationToken);
        }, cancellationToken);
    }

    private async Task<OAuthResult> RotateAsync(RefreshToken token, UserAccount user, DateTime now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (successor, successorValue) = RefreshTokens.Create(user, token.FamilyId, now, settings);
        db.RefreshTokens.Add(successor);
        var retry = token.ConsumedAt is not null;
        if (!retry)
        {
            token.ConsumedAt = now;
            token.ReplacedById = successor.Id;
        }

        // Also on a retry within the grace: a concurrent revocation of the family then makes this save fail and retry.
        token.Version = Guid.NewGuid();

        var accessToken = await issuer.IssueAsync(PasswordGrant.UserSubject(user), settings.AccessTokenLifetime, cancellationToken);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("refresh-token.rotated", "refresh-token-family", token.FamilyId.ToString())
            {
                Actor = new AuditActor(AuditActor.User, user.Id.ToString()),
                Details = new { consumed = token.Id, issued = successor.Id, withinReuseGrace = retry },
            },
            cancellationToken);

        telemetry.TokenIssued(GrantTypes.RefreshToken);
        return OAuthResult.Token(new TokenResponse(accessToken.Token, accessToken.ExpiresIn) { RefreshToken = successorValue });
    }

    private async Task RevokeFamilyAsync(RefreshToken token, DateTime now, string reason, CancellationToken cancellationToken)
    {
        var revoked = await RefreshTokens.RevokeFamilyAsync(db, token.FamilyId, now, reason, cancellationToken);
        if (revoked == 0)
        {
            return;
        }

        await auditTrail.SaveChangesAsync(
            new AuditEntry("refresh-token.family-revoked", "refresh-token-family", token.FamilyId.ToString())
            {
                Actor = Anonymous,
                Details = new { reason, presented = token.Id, revoked },
            },
            cancellationToken);
    }
}
