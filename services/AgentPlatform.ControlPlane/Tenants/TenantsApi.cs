using System.ComponentModel.DataAnnotations;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.ControlPlane.Users;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Tenants;

public sealed record TenantResponse(string Id, string DisplayName, DateTime CreatedAt, DateTime? DisabledAt)
{
    public static TenantResponse From(Tenant tenant) => new(tenant.Id, tenant.DisplayName, tenant.CreatedAt, tenant.DisabledAt);
}

public sealed record CreateTenantRequest
{
    [Required, StringLength(Domain.Tenancy.TenantId.MaxLength, MinimumLength = 1), RegularExpression("^[a-z0-9][a-z0-9-]*$", ErrorMessage = "Use lowercase letters, digits and '-', starting with a letter or digit.")]
    public required string Id { get; init; }

    [Required, StringLength(200, MinimumLength = 1)]
    public required string DisplayName { get; init; }

    /// <summary>The tenant's first tenant admin.</summary>
    [Required, StringLength(100, MinimumLength = 3), RegularExpression(UserNames.Pattern, ErrorMessage = UserNames.PatternMessage)]
    public required string AdminUserName { get; init; }

    [Required, StringLength(Passwords.MaxLength, MinimumLength = Passwords.MinLength)]
    public required string AdminPassword { get; init; }
}

public sealed record UpdateTenantRequest
{
    [StringLength(200, MinimumLength = 1)]
    public string? DisplayName { get; init; }

    /// <summary>True disables the tenant: no token is issued or refreshed for it any more.</summary>
    public bool? Disabled { get; init; }
}

/// <summary>The platform's tenants (platform admins only).</summary>
public static class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder endpoints)
    {
        var tenants = endpoints.MapGroup("/api/tenants").WithTags("Tenants").RequirePermission(Permissions.TenantsManage);
        tenants.MapGet("/", ListAsync);
        tenants.MapGet("/{id}", GetAsync);
        tenants.MapPost("/", CreateAsync);
        tenants.MapPatch("/{id}", UpdateAsync);
        return endpoints;
    }

    public static async Task<Ok<PagedResult<TenantResponse>>> ListAsync([AsParameters] PageQuery page, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        return TypedResults.Ok(await db.Tenants.AsNoTracking().OrderBy(t => t.Id).ToPagedResultAsync(page, TenantResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetAsync(string id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.Tenants.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken) is { } tenant
            ? TypedResults.Ok(TenantResponse.From(tenant))
            : Problems.NotFound("The tenant");

    /// <summary>
    /// Creates the tenant and its first tenant admin. The admin and the tenant's first audit record are written
    /// in a unit of work acting for the new tenant; the platform admin's own trail records the creation.
    /// </summary>
    public static async Task<Results<Created<TenantResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateTenantRequest request,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        IServiceScopeFactory scopeFactory,
        IPasswordHasher<UserAccount> hasher,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var normalizedAdmin = UserNames.Normalize(request.AdminUserName);
        if (await db.Tenants.AnyAsync(t => t.Id == request.Id, cancellationToken))
        {
            return Problems.Conflict($"The tenant '{request.Id}' exists.");
        }

        if (await db.Users.IgnoreQueryFilters().AnyAsync(u => u.NormalizedUserName == normalizedAdmin, cancellationToken))
        {
            return Problems.Conflict($"The user name '{request.AdminUserName}' is taken.");
        }

        var now = timeProvider.GetUtcNow().UtcDateTime;
        var tenant = new Tenant { Id = request.Id, DisplayName = request.DisplayName.Trim(), CreatedAt = now };

        await using (var tenantScope = scopeFactory.CreateAsyncScope())
        {
            tenantScope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenant.Id);
            var tenantDb = tenantScope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var admin = new UserAccount
            {
                Id = Guid.CreateVersion7(timeProvider.GetUtcNow()),
                TenantId = tenant.Id,
                UserName = request.AdminUserName.Trim(),
                NormalizedUserName = normalizedAdmin,
                DisplayName = request.AdminUserName.Trim(),
                PasswordHash = "",
                Roles = [Roles.TenantAdmin],
                SecurityStamp = Guid.NewGuid(),
                Version = Guid.NewGuid(),
                CreatedAt = now,
            };
            admin.PasswordHash = hasher.HashPassword(admin, request.AdminPassword);
            tenantDb.Tenants.Add(tenant);
            tenantDb.Users.Add(admin);
            try
            {
                await tenantScope.ServiceProvider.GetRequiredService<AuditTrail>().SaveChangesAsync(
                [
                    new AuditEntry("tenant.created", "tenant", tenant.Id) { After = TenantResponse.From(tenant) },
                    new AuditEntry("user.created", "user", admin.Id.ToString()) { After = new { admin.UserName, admin.Roles } },
                ], cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Lost a race for the tenant id or the admin's user name to a concurrent request.
                return Problems.Conflict($"The tenant '{request.Id}' or the user name '{request.AdminUserName}' was just taken.");
            }
        }

        await auditTrail.SaveChangesAsync(new AuditEntry("tenant.created", "tenant", tenant.Id) { After = TenantResponse.From(tenant) }, cancellationToken);
        return TypedResults.Created($"/api/tenants/{tenant.Id}", TenantResponse.From(tenant));
    }

    public static async Task<Results<Ok<TenantResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, UpdateTenantRequest request, HttpContext context, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("The tenant");
        }

        if (request.Disabled == true && tenant.Id == context.User.GetTenantId())
        {
            return Problems.Forbidden("You cannot disable the tenant you are signed in to.");
        }

        var before = TenantResponse.From(tenant);
        if (request.DisplayName is not null)
        {
            tenant.DisplayName = request.DisplayName.Trim();
        }

        if (request.Disabled is { } disabled)
        {
            tenant.DisabledAt = disabled ? tenant.DisabledAt ?? timeProvider.GetUtcNow().UtcDateTime : null;
        }

        await auditTrail.SaveChangesAsync(
            new AuditEntry("tenant.updated", "tenant", tenant.Id) { Before = before, After = TenantResponse.From(tenant) }, cancellationToken);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }
}
