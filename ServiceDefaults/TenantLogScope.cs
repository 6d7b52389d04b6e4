using System.Collections;
using AgentPlatform.Domain.Telemetry;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.ServiceDefaults;

/// <summary>
/// A log scope carrying <c>tenant_id</c> under its contract name (structured, for OTLP) that also reads well in
/// the console (<c>tenant_id:acme</c>).
/// </summary>
public sealed class TenantLogScope(string tenantId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(PlatformTags.TenantId, tenantId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{PlatformTags.TenantId}:{tenantId}";
}

public static class TenantLogScopeExtensions
{
    public static IDisposable? BeginTenantScope(this ILogger logger, string tenantId) => logger.BeginScope(new TenantLogScope(tenantId));
}
