using System.Security.Cryptography;
using AgentPlatform.ControlPlane.Users;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// First start of a platform (no tenant at all): creates tenant <c>default</c> and its user <c>admin</c>
/// (platform-admin and tenant-admin) with <see cref="TokenServiceOptions.BootstrapAdminPassword"/>, or a generated
/// password logged once at Warning. Safe on any number of instances starting together: one transaction creates
/// both and their audit records, and whoever loses the race finds the platform bootstrapped. Never runs again
/// once any tenant exists, so a removed or renamed admin is not brought back with a known password.
/// </summary>
public sealed class IdentityBootstrapper(
    IServiceScopeFactory scopeFactory,
    IPasswordHasher<UserAccount> hasher,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    ILogger<IdentityBootstrapper> logger)
{
    public const string DefaultTenantId = "default";
    public const string AdminUserName = "admin";

    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.";

    /// <summary>True when this call bootstrapped the platform.</summary>
    public async Task<bool> BootstrapAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(DefaultTenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        if (await db.Tenants.AnyAsync(cancellationToken))
        {
            return false;
        }

        var configured = options.Value.BootstrapAdminPassword;
        var password = string.IsNullOrEmpty(configured) ? RandomNumberGenerator.GetString(PasswordAlphabet, 24) : configured;
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var tenant = new Tenant { Id = DefaultTenantId, DisplayName = "Default", CreatedAt = now };
        var admin = new UserAccount
        {
            Id = Guid.CreateVersion7(timeProvider.GetUtcNow()),
            TenantId = DefaultTenantId,
            UserName = AdminUserName,
            NormalizedUserName = UserNames.Normalize(AdminUserName),
            DisplayName = "Administrator",
            PasswordHash = "",
            Roles = [Roles.PlatformAdmin, Roles.TenantAdmin],
            SecurityStamp = Guid.NewGuid(),
            Version = Guid.NewGuid(),
            CreatedAt = now,
        };
        admin.PasswordHash = hasher.HashPassword(admin, password);
        db.Tenants.Add(tenant);
        db.Users.Add(admin);

        // In a transaction the audit trail does not retry: a lost race surfaces at once.
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                await scope.ServiceProvider.GetRequiredService<AuditTrail>().SaveChangesAsync(
                [
                    new AuditEntry("tenant.created", "tenant", tenant.Id) { Actor = AuditActor.System, After = new { tenant.Id, tenant.DisplayName } },
                    new AuditEntry("user.created", "user", admin.Id.ToString())
                    {
                        Actor = AuditActor.System,
                        After = new { admin.UserName, admin.DisplayName, Roles = admin.Roles.Order(StringComparer.Ordinal).ToList(), admin.DisabledAt },
                    },
                ], cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                await transaction.RollbackAsync(cancellationToken);
                if (!await IsBootstrappedAsync(cancellationToken))
                {
                    throw;
                }

                logger.LogInformation("Another instance bootstrapped the platform first.");
                return false;
            }
        }

        if (string.IsNullOrEmpty(configured))
        {
            logger.LogWarning(
                "Created tenant '{TenantId}' and user '{UserName}' with the generated password {Password} — shown only this once. " +
                "Sign in and change it (POST /api/me/password); to choose it instead, set Identity:BootstrapAdminPassword " +
                "(AppHost parameter 'admin-password') before the first start.",
                DefaultTenantId, AdminUserName, password);
        }
        else
        {
            logger.LogInformation("Created tenant '{TenantId}' and user '{UserName}' with the configured password.", DefaultTenantId, AdminUserName);
        }

        return true;
    }

    private async Task<bool> IsBootstrappedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tenants.AnyAsync(t => t.Id == DefaultTenantId, cancellationToken);
    }
}
