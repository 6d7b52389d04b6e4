using AgentPlatform.Infrastructure.Leases;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>
/// Runs <see cref="PayloadCleanup"/> every <see cref="ClaimCheckOptions.CleanupInterval"/> on whichever
/// instance holds the <see cref="LeaseName"/> lease. The holder renews the lease with each pass; when it
/// stops, it releases it, and when it dies, another instance takes over once the lease expires. A pass
/// that outlasts the lease may overlap another instance's; that only repeats work, because every delete
/// is conditional.
/// </summary>
public sealed class PayloadCleanupService(
    PayloadCleanup cleanup,
    DistributedLeaseManager leases,
    IOptions<ClaimCheckOptions> options,
    TimeProvider timeProvider,
    ILogger<PayloadCleanupService> logger) : BackgroundService
{
    public const string LeaseName = "claim-check-cleanup";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.CleanupInterval;
        var owner = DistributedLeaseManager.ProcessOwner;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await leases.TryAcquireAsync(LeaseName, owner, interval * 3, stoppingToken))
                    {
                        await cleanup.RunOnceAsync(stoppingToken);
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store or the blob storage is unreachable for now: the next pass tries again.
                    logger.LogWarning(exception, "Claim-check cleanup failed; the next pass runs in {Interval}.", interval);
                }

                await Task.Delay(interval, timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await ReleaseLeaseAsync(owner);
        }
    }

    private async Task ReleaseLeaseAsync(string owner)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await leases.ReleaseAsync(LeaseName, owner, timeout.Token);
        }
        catch (Exception exception)
        {
            // The lease then simply expires.
            logger.LogDebug(exception, "Could not release the {Lease} lease on shutdown.", LeaseName);
        }
    }
}
