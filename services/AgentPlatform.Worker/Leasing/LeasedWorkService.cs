using System.Collections.Concurrent;

namespace AgentPlatform.Worker.Leasing;

/// <summary>
/// The claim loop of the Worker's leased work (tasks, knowledge documents): claims free items up to
/// <see cref="MaxConcurrent"/> at a time, runs each in the background, claims again as soon as one finishes or
/// <see cref="PollInterval"/> passes, and on stop waits for the items in progress (which hand their leases back).
/// <para>
/// An item still running here is never claimed again: a lease that lapsed under it (a renewal came late on a starved
/// machine) would otherwise let this process run the same item a second time beside itself, under the same owner,
/// where no lease check can tell the two runs apart.
/// </para>
/// </summary>
/// <typeparam name="TItem">What a claim returns for one item.</typeparam>
public abstract class LeasedWorkService<TItem> : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, Task> running = new();
    private readonly SemaphoreSlim finished = new(0);

    /// <summary>How many items run here at once.</summary>
    protected abstract int MaxConcurrent { get; }

    /// <summary>How long to wait before looking for work again when there was none (or no free slot).</summary>
    protected abstract TimeSpan PollInterval { get; }

    protected abstract Guid IdOf(TItem item);

    /// <summary>Claims up to <paramref name="max"/> free items, none of <paramref name="runningHere"/>.</summary>
    protected abstract Task<IReadOnlyList<TItem>> ClaimAsync(int max, IReadOnlyCollection<Guid> runningHere, CancellationToken cancellationToken);

    /// <summary>Runs one claimed item to its end; handles its own failures and gives its lease back.</summary>
    protected abstract Task ProcessAsync(TItem item, CancellationToken stoppingToken);

    /// <summary>Claiming failed (the store is unreachable); the loop tries again after <see cref="PollInterval"/>.</summary>
    protected abstract void OnClaimFailed(Exception exception);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var free = MaxConcurrent - running.Count;
                var claimed = 0;
                if (free > 0)
                {
                    try
                    {
                        foreach (var item in await ClaimAsync(free, [.. running.Keys], stoppingToken))
                        {
                            claimed++;
                            running[IdOf(item)] = ProcessAndForgetAsync(item, stoppingToken);
                        }
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        OnClaimFailed(exception);
                    }
                }

                if (claimed == 0 || running.Count >= MaxConcurrent)
                {
                    // Sleep until the poll interval passes or a slot frees up.
                    await finished.WaitAsync(PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running.Values);
    }

    public override void Dispose()
    {
        finished.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task ProcessAndForgetAsync(TItem item, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await ProcessAsync(item, stoppingToken);
        }
        finally
        {
            running.TryRemove(IdOf(item), out _);
            finished.Release();
        }
    }
}
