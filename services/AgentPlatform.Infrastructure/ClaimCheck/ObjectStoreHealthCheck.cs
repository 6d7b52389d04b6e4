using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>Ready when the object store answers; a missing bucket is fine, the first write creates it.</summary>
internal sealed class ObjectStoreHealthCheck(S3BlobStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var exists = await storage.BucketExistsAsync(cancellationToken);
            return HealthCheckResult.Healthy(exists ? $"Bucket '{storage.Bucket}' exists." : $"Bucket '{storage.Bucket}' will be created on first write.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The object store cannot be reached.", exception);
        }
    }
}
