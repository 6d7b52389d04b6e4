using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using AgentPlatform.Domain.Identity;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.RateLimiting;

namespace AgentPlatform.Gateway.RateLimiting;

/// <summary>
/// <see cref="EdgePolicies.PerCaller"/>: the caller's own bucket (a user by <c>sub</c>, an API key by
/// <c>api_key_id</c>), then its tenant's. An unauthenticated request (a route that allows anonymous callers)
/// is limited by its client address instead.
/// </summary>
public sealed class PerCallerPolicy(RateLimitBuckets buckets) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        var user = httpContext.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            return PerClientAddressPolicy.Partition(buckets, httpContext);
        }

        var tenant = KeyPart(user.GetTenantId() ?? "-");
        var client = user.FindFirst(PlatformClaims.ApiKeyId)?.Value is { } apiKeyId ? $"key:{KeyPart(apiKeyId)}" : $"sub:{KeyPart(user.GetSubject() ?? "-")}";
        return RateLimitPartition.Get($"caller:{tenant}:{client}", _ => new CounterStoreRateLimiter(buckets,
        [
            new RateLimitBucket($"client:{tenant}:{client}", settings => settings.Client, "client"),
            new RateLimitBucket($"tenant:{tenant}", settings => settings.Tenant, "tenant"),
        ]));
    }

    /// <summary>Escapes the separator, so ids that contain one cannot make two callers share a key.</summary>
    private static string KeyPart(string value) => value.Replace("%", "%25", StringComparison.Ordinal).Replace(":", "%3A", StringComparison.Ordinal);
}

/// <summary>
/// <see cref="EdgePolicies.PerClientAddress"/>: one bucket per client address, IPv6 addresses grouped by /64
/// (what one subscriber usually gets, so rotating addresses within it gains nothing).
/// </summary>
public sealed class PerClientAddressPolicy(RateLimitBuckets buckets) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => Partition(buckets, httpContext);

    internal static RateLimitPartition<string> Partition(RateLimitBuckets buckets, HttpContext httpContext)
    {
        var address = ClientAddress(httpContext.Connection.RemoteIpAddress);
        return RateLimitPartition.Get($"address:{address}", _ => new CounterStoreRateLimiter(buckets,
        [
            new RateLimitBucket($"address:{address}", settings => settings.ClientAddress, "client address"),
        ]));
    }

    internal static string ClientAddress(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }
}
