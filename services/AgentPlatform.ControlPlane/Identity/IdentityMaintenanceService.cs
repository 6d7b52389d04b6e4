using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// At startup, before the control plane serves: bootstraps the platform on its first start and makes sure a
/// signing key exists. Then, every <see cref="TokenServiceOptions.MaintenanceInterval"/>: keeps the key ring healthy
/// (successors published ahead of time, expired keys deleted) and deletes expired refresh tokens. Every pass
/// holds the ring's lease, so instances take turns and each pass is idempotent.
/// </summary>
public sealed class IdentityMaintenanceService(
    IdentityBootstrapper bootstrapper,
    SigningKeyManager manager,
    SigningKeyRing ring,
    IServiceScopeFactory scopeFactory,
    IdentityTelemetry telemetry,
    IOptions<TokenServiceOptions> options,
    TimeProvider timeProvider,
    ILogger<IdentityMaintenanceService> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await bootstrapper.BootstrapAsync(cancellationToken);
        try
        {
            await RunOnceAsync(cancellationToken);
        }
        catch (TimeoutException exception)
        {
            // Another instance holds the ring's lease (or died holding it): it keeps the ring healthy, or this
            // instance's next pass does once the lease expires.
            logger.LogWarning(exception, "The signing key ring is busy; this instance starts with the keys already stored.");
        }

        await base.StartAsync(cancellationToken);
    }

    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        RingChanges changes;
        await using (await manager.LockAsync(cancellationToken))
        {
            await using var scope = scopeFactory.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var keys = await db.SigningKeys.ToListAsync(cancellationToken);
            changes = manager.Maintain(keys);
            db.SigningKeys.RemoveRange(changes.Removed);
            db.SigningKeys.AddRange(changes.Added);
            await db.SaveChangesAsync(cancellationToken);

            var now = timeProvider.GetUtcNow().UtcDateTime;
            var expiredRefreshTokens = await db.RefreshTokens.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
                .Where(t => t.ExpiresAt <= now)
                .ExecuteDeleteAsync(cancellationToken);
            if (expiredRefreshTokens > 0)
            {
                logger.LogInformation("Deleted {Count} expired refresh token(s).", expiredRefreshTokens);
            }
        }

        foreach (var key in changes.Added)
        {
            // Platform-level and unattended: there is no tenant whose audit trail it belongs to, so it is logged.
            logger.LogInformation("Signing key {Kid} created: signs from {ActivatesAt:O} until {RetiresAt:O}.", key.Kid, key.ActivatesAt, key.RetiresAt);
            telemetry.KeyCreated("schedule");
        }

        foreach (var key in changes.Removed)
        {
            logger.LogInformation("Signing key {Kid} expired and was deleted.", key.Kid);
        }

        if (!changes.IsEmpty)
        {
            ring.Invalidate();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.MaintenanceInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(interval, timeProvider, stoppingToken);
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store is unreachable for now; keys are created a publish lead time ahead, so a pass can wait.
                    logger.LogWarning(exception, "Identity maintenance failed; the next pass runs in {Interval}.", interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
