using System.Globalization;
using System.Net;
using AgentPlatform.Infrastructure.Networking;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// Where <c>http_fetch</c> may connect: hosts on the egress allowlist, and only at public addresses (or at the private
/// networks configured as allowed), checked in the connection itself (<see cref="OutboundAddresses"/>).
/// </summary>
public sealed class EgressPolicy(IOptionsMonitor<HttpFetchOptions> options)
{
    /// <summary>Whether <paramref name="host"/> (a DNS name or an IP literal, as in a URL) is on the allowlist.</summary>
    public bool IsHostAllowed(string host)
    {
        var normalized = NormalizeHost(host);
        foreach (var entry in options.CurrentValue.AllowedHosts)
        {
            var pattern = NormalizeHost(entry);
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                ? normalized.EndsWith(pattern[1..], StringComparison.Ordinal) && normalized.Length > pattern.Length - 1
                : normalized == pattern)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Public addresses, and addresses in the configured private networks.</summary>
    public bool IsAddressAllowed(IPAddress address) => OutboundAddresses.IsAllowed(address, options.CurrentValue.AllowedPrivateNetworks);

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the tool's HTTP client: resolves the host and connects
    /// only when every address it resolves to is allowed.
    /// </summary>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        OutboundAddresses.ConnectAsync(context, IsAddressAllowed, cancellationToken);

    /// <summary>Lower case, IDN as punycode, no trailing dot, IPv6 without brackets.</summary>
    public static string NormalizeHost(string host)
    {
        var trimmed = host.Trim().TrimEnd('.');
        if (trimmed.StartsWith("*.", StringComparison.Ordinal))
        {
            return "*." + NormalizeHost(trimmed[2..]);
        }

        if (IPAddress.TryParse(trimmed, out var address))
        {
            return OutboundAddresses.Canonical(address).ToString();
        }

        try
        {
            return new IdnMapping().GetAscii(trimmed).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return trimmed.ToLowerInvariant();
        }
    }
}
