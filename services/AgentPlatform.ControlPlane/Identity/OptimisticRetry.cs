using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Identity;

/// <summary>
/// Runs a read-decide-write unit of work in a transaction and runs it again, from a clean change tracker, when
/// saving loses a race (a concurrency token changed, the audit chain's head moved, a unique key was taken). The
/// work reads everything it decides on inside the attempt, so the second attempt decides on what the winner
/// wrote: failed sign-ins count exactly, a refresh token is consumed once. Inside a transaction the audit trail
/// leaves retrying to its caller, so every attempt is all or nothing.
/// </summary>
internal static class OptimisticRetry
{
    private const int MaxAttempts = 10;

    public static async Task<T> RunAsync<T>(AgentPlatformDbContext db, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var result = await work();
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (DbUpdateException) when (attempt < MaxAttempts)
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
    }
}
