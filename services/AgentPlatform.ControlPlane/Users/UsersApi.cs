using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Users;

/// <summary>The tenant's users (tenant admins), and the caller's own account.</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var users = endpoints.MapGroup("/api/users").WithTags("Users");
        users.MapGet("/", ListAsync).RequirePermission(Permissions.UsersRead);
        users.MapGet("/{id:guid}", GetAsync).RequirePermission(Permissions.UsersRead);
        users.MapPost("/", CreateAsync).RequirePermission(Permissions.UsersManage);
        users.MapPatch("/{id:guid}", UpdateAsync).RequirePermission(Permissions.UsersManage);
        users.MapPost("/{id:guid}/password", SetPasswordAsync).RequirePermission(Permissions.UsersManage);

        var me = endpoints.MapGroup("/api/me").WithTags("Users");
        me.MapGet("/", GetCaller);
        me.MapPost("/password", ChangeOwnPasswordAsync);
        return endpoints;
    }

    public static async Task<Ok<PagedResult<UserResponse>>> ListAsync(
        [AsParameters] PageQuery page, [AsParameters] UserQuery query, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var search = query.Search.Trim().ToUpperInvariant();
#pragma warning disable CA1862 // Translated to SQL: ToUpper + Contains works on SQLite and PostgreSQL alike, StringComparison does not.
            users = users.Where(u => u.NormalizedUserName.Contains(search) || u.DisplayName.ToUpper().Contains(search));
#pragma warning restore CA1862
        }

        return TypedResults.Ok(await users.OrderBy(u => u.NormalizedUserName).ToPagedResultAsync(page, UserResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, cancellationToken) is { } user
            ? TypedResults.Ok(UserResponse.From(user))
            : Problems.NotFound("The user");

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        IPasswordHasher<UserAccount> hasher,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        if (!RolePermissions.MayAssign(context.User.GetRoles(), request.Roles))
        {
            return Problems.Forbidden("You can only give roles whose permissions you hold yourself.");
        }

        var normalized = UserNames.Normalize(request.UserName);
        // User names are unique across tenants, so the check must see every tenant.
        if (await db.Users.IgnoreQueryFilters().AnyAsync(u => u.NormalizedUserName == normalized, cancellationToken))
        {
            return Problems.Conflict($"The user name '{request.UserName}' is taken.");
        }

        var user = new UserAccount
        {
            Id = Guid.CreateVersion7(timeProvider.GetUtcNow()),
            TenantId = context.User.GetTenantId()!,
            UserName = request.UserName.Trim(),
            NormalizedUserName = normalized,
            DisplayName = request.DisplayName.Trim(),
            PasswordHash = "",
            Roles = [.. request.Roles.Distinct(StringComparer.Ordinal)],
            SecurityStamp = Guid.NewGuid(),
            Version = Guid.NewGuid(),
            CreatedAt = timeProvider.GetUtcNow().UtcDateTime,
        };
        user.PasswordHash = hasher.HashPassword(user, request.Password);
        db.Users.Add(user);
        try
        {
            await auditTrail.SaveChangesAsync(
                new AuditEntry("user.created", "user", user.Id.ToString()) { After = Audited(user) }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent request took the name between the check and the insert (the unique index caught it).
            if (await db.Users.IgnoreQueryFilters().AsNoTracking().AnyAsync(u => u.NormalizedUserName == normalized && u.Id != user.Id, cancellationToken))
            {
                return Problems.Conflict($"The user name '{request.UserName}' is taken.");
            }

            throw;
        }

        return TypedResults.Created($"/api/users/{user.Id}", UserResponse.From(user));
    }

    public static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateUserRequest request, HttpContext context, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("The user");
        }

        var isSelf = context.User.GetSubject() == user.Id.ToString();
        if (isSelf && (request.Roles is not null || request.Disabled == true))
        {
            return Problems.Forbidden("You cannot change your own roles or disable your own account.");
        }

        // Changing a user's roles is giving (or taking) those roles: the caller must be able to give both sets.
        if (request.Roles is not null && !RolePermissions.MayAssign(context.User.GetRoles(), [.. request.Roles, .. user.Roles]))
        {
            return Problems.Forbidden("You can only change roles whose permissions you hold yourself.");
        }

        var before = Audited(user);
        if (request.DisplayName is not null)
        {
            user.DisplayName = request.DisplayName.Trim();
        }

        if (request.Roles is not null)
        {
            user.Roles = [.. request.Roles.Distinct(StringComparer.Ordinal)];
            user.SecurityStamp = Guid.NewGuid();
        }

        if (request.Disabled is { } disabled)
        {
            user.DisabledAt = disabled ? user.DisabledAt ?? timeProvider.GetUtcNow().UtcDateTime : null;
            user.SecurityStamp = Guid.NewGuid();
        }

        user.Version = Guid.NewGuid();
        await auditTrail.SaveChangesAsync(
            new AuditEntry("user.updated", "user", user.Id.ToString()) { Before = before, After = Audited(user) }, cancellationToken);
        return TypedResults.Ok(UserResponse.From(user));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SetPasswordAsync(
        Guid id, SetPasswordRequest request, AgentPlatformDbContext db, AuditTrail auditTrail, IPasswordHasher<UserAccount> hasher, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("The user");
        }

        SetPassword(user, request.NewPassword, hasher);
        await auditTrail.SaveChangesAsync(new AuditEntry("user.password-reset", "user", user.Id.ToString()), cancellationToken);
        return TypedResults.NoContent();
    }

    public static Ok<CurrentCaller> GetCaller(HttpContext context)
    {
        var roles = context.User.GetRoles();
        return TypedResults.Ok(new CurrentCaller(
            context.User.GetSubject()!,
            context.User.GetTenantId()!,
            roles,
            [.. RolePermissions.For(roles).Order(StringComparer.Ordinal)],
            context.User.FindFirst(PlatformClaims.ApiKeyId)?.Value,
            context.User.FindFirst(PlatformClaims.ClientId)?.Value));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangeOwnPasswordAsync(
        ChangeOwnPasswordRequest request, HttpContext context, AgentPlatformDbContext db, AuditTrail auditTrail, IPasswordHasher<UserAccount> hasher, CancellationToken cancellationToken)
    {
        var user = Guid.TryParse(context.User.GetSubject(), out var id)
            ? await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken)
            : null;
        if (user is null)
        {
            return Problems.Forbidden("Only users have a password; this credential is not a user's.");
        }

        if (hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            return Problems.Invalid(nameof(request.CurrentPassword), "The current password is wrong.");
        }

        SetPassword(user, request.NewPassword, hasher);
        await auditTrail.SaveChangesAsync(new AuditEntry("user.password-changed", "user", user.Id.ToString()), cancellationToken);
        return TypedResults.NoContent();
    }

    private static void SetPassword(UserAccount user, string password, IPasswordHasher<UserAccount> hasher)
    {
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SecurityStamp = Guid.NewGuid();
        user.FailedSignInCount = 0;
        user.LockedOutUntil = null;
        user.Version = Guid.NewGuid();
    }

    // What the audit digests cover: the account's state, never its password hash.
    private static object Audited(UserAccount user) =>
        new { user.UserName, user.DisplayName, Roles = user.Roles.Order(StringComparer.Ordinal).ToList(), user.DisabledAt };
}
