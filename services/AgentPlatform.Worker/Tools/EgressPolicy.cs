using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// Where <c>http_fetch</c> may connect: hosts on the egress allowlist, and only at public addresses (or at the private
/// networks configured as allowed). The address check runs in the connection itself, on the addresses actually
/// dialled, so a DNS answer cannot change between check and connect (DNS rebinding), and every redirect hop passes
/// through it too.
/// </summary>
public sealed class EgressPolicy(IOptionsMonitor<HttpFetchOptions> options)
{
    // Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries) that are never the public internet.
    private static readonly IPNetwork[] NonPublicNetworks =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.88.99.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/96"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("64:ff9b:1::/48"), IPNetwork.Parse("100::/64"),
        IPNetwork.Parse("2001::/23"), IPNetwork.Parse("2001:db8::/32"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

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
    public bool IsAddressAllowed(IPAddress address) =>
        IsPublic(address) || options.CurrentValue.AllowedPrivateNetworks.Any(n => IPNetwork.Parse(n).Contains(Canonical(address)));

    /// <summary>Not in any special-purpose range; IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged as IPv4.</summary>
    public static bool IsPublic(IPAddress address)
    {
        address = Canonical(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && (Nat64.Contains(address) || SixToFour.Contains(address)))
        {
            var bytes = address.GetAddressBytes();
            var embedded = Nat64.Contains(address) ? bytes[12..16] : bytes[2..6];
            return IsPublic(new IPAddress(embedded));
        }

        return !NonPublicNetworks.Any(n => n.Contains(address));
    }

    /// <summary>
    /// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the tool's HTTP client: resolves the host and connects
    /// only when every address it resolves to is allowed.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new EgressDeniedException($"The host '{endpoint.Host}' has no address.");
        }

        if (addresses.FirstOrDefault(a => !IsAddressAllowed(a)) is { } denied)
        {
            throw new EgressDeniedException(
                $"The host '{endpoint.Host}' resolves to {denied}, a private, loopback, link-local or otherwise non-public address; such addresses are refused.");
        }

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                last = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }

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
            return Canonical(address).ToString();
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

    private static IPAddress Canonical(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>A connection the egress policy refused.</summary>
public sealed class EgressDeniedException(string message) : Exception(message);
