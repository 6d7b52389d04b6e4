using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tasks.Embedded;

/// <summary>What a lease renewal found: whether this worker still holds the task, and whether it was asked to stop.</summary>
public readonly record struct LeaseState(bool Held, bool CancelRequested);

/// <summary>
/// Task leases in the relational store. Every change is one conditional statement on the task's row, so any
/// number of workers can compete for tasks on SQLite or PostgreSQL and exactly one wins each: a task is free
/// when it is unfinished and its lease is absent or expired.
/// </summary>
public sealed class TaskLeases(IServiceScopeFactory scopeFactory, TimeProvider timeProvider, IOptionsMonitor<TaskRunnerOptions> options)
{
    /// <summary>
    /// Claims up to <paramref name="max"/> free tasks for <paramref name="owner"/>, highest priority and oldest first,
    /// leaving out <paramref name="runningHere"/>: a task this owner is still running, whose lease lapsed because a
    /// renewal came late (a starved machine), is not started a second time beside itself — its next renewal takes
    /// the lease back unless another worker claimed it first, in which case the run here stops.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> ClaimAsync(string owner, int max, IReadOnlyCollection<Guid> runningHere, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var excluded = runningHere.ToArray();
        var candidates = await Unfinished(db)
            .Where(t => t.LeaseExpiresAt == null || t.LeaseExpiresAt <= now)
            .Where(t => !excluded.Contains(t.Id))
            .OrderByDescending(t => t.Priority).ThenBy(t => t.CreatedAt)
            .Select(t => t.Id)
            .Take(max)
            .ToListAsync(cancellationToken);

        var claimed = new List<Guid>(candidates.Count);
        var expiresAt = now + options.CurrentValue.LeaseDuration;
        foreach (var id in candidates)
        {
            var won = await Unfinished(db)
                .Where(t => t.Id == id && (t.LeaseExpiresAt == null || t.LeaseExpiresAt <= now))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(t => t.LeaseOwner, owner)
                    .SetProperty(t => t.LeaseExpiresAt, expiresAt)
                    .SetProperty(t => t.Runs, t => t.Runs + 1), cancellationToken);
            if (won == 1)
            {
                claimed.Add(id);
            }
        }

        return claimed;
    }

    /// <summary>Extends <paramref name="owner"/>'s lease on the task, and reads whether its cancellation was requested.</summary>
    public async Task<LeaseState> RenewAsync(Guid taskId, string owner, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var expiresAt = timeProvider.GetUtcNow().UtcDateTime + options.CurrentValue.LeaseDuration;
        var held = await Unfinished(db)
            .Where(t => t.Id == taskId && t.LeaseOwner == owner)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.LeaseExpiresAt, expiresAt), cancellationToken);
        if (held == 0)
        {
            return new LeaseState(false, false);
        }

        var cancelRequested = await db.Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .AnyAsync(t => t.Id == taskId && t.CancelRequestedAt != null, cancellationToken);
        return new LeaseState(true, cancelRequested);
    }

    /// <summary>Gives the task up so another worker need not wait for the lease to expire.</summary>
    public async Task ReleaseAsync(Guid taskId, string owner, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        await db.Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .Where(t => t.Id == taskId && t.LeaseOwner == owner)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.LeaseOwner, (string?)null).SetProperty(t => t.LeaseExpiresAt, (DateTime?)null), cancellationToken);
    }

    private static IQueryable<AgentTask> Unfinished(AgentPlatformDbContext db) =>
        db.Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .Where(t => t.Status == TaskStatuses.Queued || t.Status == TaskStatuses.Running);

    private AsyncServiceScope SystemScope(out AgentPlatformDbContext db)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return scope;
    }
}
