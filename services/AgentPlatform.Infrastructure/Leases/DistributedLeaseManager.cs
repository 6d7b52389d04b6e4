using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Infrastructure.Leases;

/// <summary>
/// Named leases in the relational store, for work that one instance at a time should do (dispatching the
/// outbox in order, cleaning up payloads). Each operation is one atomic statement, so it is safe on SQLite
/// and PostgreSQL alike with any number of competing instances.
/// </summary>
public sealed class DistributedLeaseManager(IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
{
    /// <summary>A unique owner id for this process, for callers that need no finer identity.</summary>
    public static string ProcessOwner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>
    /// Takes the lease, renews it when <paramref name="owner"/> holds it already, or takes it over when the
    /// previous owner let it expire. True when <paramref name="owner"/> holds it for <paramref name="duration"/>.
    /// </summary>
    public async Task<bool> TryAcquireAsync(string name, string owner, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var expiresAt = now + duration;

        var renewed = await db.DistributedLeases
            .Where(l => l.Name == name && (l.Owner == owner || l.ExpiresAt <= now))
            .ExecuteUpdateAsync(set => set
                .SetProperty(l => l.AcquiredAt, l => l.Owner == owner ? l.AcquiredAt : now)
                .SetProperty(l => l.Owner, owner)
                .SetProperty(l => l.ExpiresAt, expiresAt), cancellationToken);
        if (renewed == 1)
        {
            return true;
        }

        db.DistributedLeases.Add(new DistributedLease { Name = name, Owner = owner, AcquiredAt = now, ExpiresAt = expiresAt });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // Another owner holds a live lease (the insert hit its primary key).
            return false;
        }
    }

    /// <summary>Gives the lease up early so another instance need not wait for it to expire.</summary>
    public async Task ReleaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        await db.DistributedLeases.Where(l => l.Name == name && l.Owner == owner).ExecuteDeleteAsync(cancellationToken);
    }
}
