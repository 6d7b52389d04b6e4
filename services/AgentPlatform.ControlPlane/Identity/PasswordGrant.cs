using AgentPlatform.ControlPlane.Users;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// <c>grant_type=password</c>: a user signs in and gets an access token and the first refresh token of a new
/// family. User names are unique across tenants, so the account says which tenant. Throttled: after
/// <see cref="TokenServiceOptions.MaxFailedSignIns"/> failures in a row the account is locked for
/// <see cref="TokenServiceOptions.LockoutDuration"/> (counted exactly under parallel attempts through the
/// account's concurrency token), and unknown user names are counted and "locked" the same way in the counter
/// store, verified against a dummy hash, and answered with the same errors, so probing for names gains nothing.
/// </summary>
public sealed class PasswordGrant(
    AgentPlatformDbContext db,
    TenantContext tenantContext,
    AuditTrail auditTrail,
    IPasswordHasher<UserAccount> hasher,
    DummyPasswordHash dummyHash,
    ICounterStore counters,
    AccessTokenIssuer issuer,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    IdentityTelemetry telemetry)
{
    public const int MaxUserNameLength = 100;

    private static readonly OAuthError WrongCredentials = OAuthError.InvalidGrant("The user name or password is wrong.");
    private static readonly OAuthError LockedOut = OAuthError.InvalidGrant("Too many failed sign-ins: try again later.");
    private static readonly AuditActor Anonymous = new(AuditActor.Anonymous, "anonymous");

    public async Task<OAuthResult> HandleAsync(TokenRequest request, CancellationToken cancellationToken)
    {
        var userName = request["username"];
        var password = request["password"];
        if (string.IsNullOrWhiteSpace(userName) || password is null)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest("The password grant needs 'username' and 'password'."));
        }

        if (userName.Length > MaxUserNameLength || password.Length > Passwords.MaxLength)
        {
            return OAuthResult.Error(OAuthError.InvalidRequest($"'username' may have at most {MaxUserNameLength} characters and 'password' at most {Passwords.MaxLength}."));
        }

        var normalized = UserNames.Normalize(userName);
        var found = await db.Users.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter]).AsNoTracking()
            .SingleOrDefaultAsync(u => u.NormalizedUserName == normalized, cancellationToken);
        if (found is null)
        {
            return await RefuseUnknownUserAsync(normalized, password, cancellationToken);
        }

        tenantContext.SetTenant(found.TenantId);
        if (found.LockedOutUntil > Now())
        {
            telemetry.SignInFailed("locked_out");
            return OAuthResult.Error(LockedOut);
        }

        // The slow hash is checked before the transaction, so no write lock is held meanwhile.
        var verifiedHash = found.PasswordHash;
        var verification = hasher.VerifyHashedPassword(found, verifiedHash, password);

        return await OptimisticRetry.RunAsync(db, async () =>
        {
            var user = await db.Users.SingleOrDefaultAsync(u => u.Id == found.Id, cancellationToken);
            if (user is null)
            {
                return OAuthResult.Error(WrongCredentials);
            }

            var now = Now();
            if (user.LockedOutUntil > now)
            {
                telemetry.SignInFailed("locked_out");
                return OAuthResult.Error(LockedOut);
            }

            if (user.PasswordHash != verifiedHash)
            {
                // The password changed meanwhile: decide on the new one.
                verifiedHash = user.PasswordHash;
                verification = hasher.VerifyHashedPassword(user, verifiedHash, password);
            }

            if (verification == PasswordVerificationResult.Failed)
            {
                return await RecordFailureAsync(user, now, cancellationToken);
            }

            if (user.DisabledAt is not null || !await db.Tenants.AnyAsync(t => t.Id == user.TenantId && t.DisabledAt == null, cancellationToken))
            {
                telemetry.SignInFailed("disabled");
                return OAuthResult.Error(OAuthError.InvalidGrant("The account is disabled."));
            }

            return await SignInAsync(user, password, verification, now, cancellationToken);
        }, cancellationToken);
    }

    private async Task<OAuthResult> SignInAsync(UserAccount user, string password, PasswordVerificationResult verification, DateTime now, CancellationToken cancellationToken)
    {
        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
            user.Version = Guid.NewGuid();
        }

        if (user.FailedSignInCount != 0 || user.LockedOutUntil is not null)
        {
            user.FailedSignInCount = 0;
            user.LockedOutUntil = null;
            user.Version = Guid.NewGuid();
        }

        var settings = options.Value;
        var familyId = Guid.CreateVersion7(now);
        var (refreshToken, refreshTokenValue) = RefreshTokens.Create(user, familyId, now, settings);
        db.RefreshTokens.Add(refreshToken);

        var accessToken = await issuer.IssueAsync(UserSubject(user), settings.AccessTokenLifetime, cancellationToken);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("user.signed-in", "user", user.Id.ToString())
            {
                Actor = new AuditActor(AuditActor.User, user.Id.ToString()),
                Details = new { refreshTokenFamily = familyId },
            },
            cancellationToken);

        telemetry.TokenIssued(GrantTypes.Password);
        return OAuthResult.Token(new TokenResponse(accessToken.Token, accessToken.ExpiresIn) { RefreshToken = refreshTokenValue });
    }

    private async Task<OAuthResult> RecordFailureAsync(UserAccount user, DateTime now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        user.FailedSignInCount++;
        user.Version = Guid.NewGuid();
        var entries = new List<AuditEntry>
        {
            new("user.sign-in-failed", "user", user.Id.ToString()) { Actor = Anonymous, Details = new { failedSignIns = user.FailedSignInCount } },
        };

        var locked = user.FailedSignInCount >= settings.MaxFailedSignIns;
        if (locked)
        {
            // The next failures count from zero once the lockout ends.
            user.LockedOutUntil = now + settings.LockoutDuration;
            user.FailedSignInCount = 0;
            entries.Add(new AuditEntry("user.locked-out", "user", user.Id.ToString()) { Actor = Anonymous, Details = new { lockedOutUntil = user.LockedOutUntil } });
        }

        await auditTrail.SaveChangesAsync(entries, cancellationToken);
        telemetry.SignInFailed("wrong_password");
        if (locked)
        {
            telemetry.LockedOut();
        }

        return OAuthResult.Error(WrongCredentials);
    }

    private async Task<OAuthResult> RefuseUnknownUserAsync(string normalizedUserName, string password, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var failures = await counters.IncrementAsync(
            $"identity:sign-in-failures:{Secrets.Hash(normalizedUserName)}", 1, settings.LockoutDuration, cancellationToken);
        if (failures > settings.MaxFailedSignIns)
        {
            telemetry.SignInFailed("locked_out");
            return OAuthResult.Error(LockedOut);
        }

        // As long as checking a real account's password takes.
        hasher.VerifyHashedPassword(dummyHash.User, dummyHash.Hash, password);
        telemetry.SignInFailed("unknown_user");
        return OAuthResult.Error(WrongCredentials);
    }

    private DateTime Now() => timeProvider.GetUtcNow().UtcDateTime;

    internal static AccessTokenSubject UserSubject(UserAccount user) =>
        new(user.Id.ToString(), user.TenantId, user.Roles) { Name = user.UserName };
}

/// <summary>A password hash of nobody, checked for unknown user names so they take as long as real ones.</summary>
public sealed class DummyPasswordHash
{
    public DummyPasswordHash(IPasswordHasher<UserAccount> hasher)
    {
        User = new UserAccount
        {
            TenantId = "none",
            UserName = "none",
            NormalizedUserName = "NONE",
            DisplayName = "none",
            PasswordHash = "",
        };
        Hash = hasher.HashPassword(User, Secrets.Generate("dummy_"));
    }

    public UserAccount User { get; }

    public string Hash { get; }
}
