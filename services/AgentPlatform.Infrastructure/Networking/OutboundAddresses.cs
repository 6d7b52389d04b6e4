using System.Net;
using System.Net.Sockets;

namespace AgentPlatform.Infrastructure.Networking;

/// <summary>
/// Where a connection to a destination the platform does not trust (a tool's URL, a tenant's model endpoint) may
/// go: public addresses, plus private networks an operator allows. The check runs in the connection itself
/// (<see cref="ConnectAsync"/> as a <see cref="SocketsHttpHandler.ConnectCallback"/>), on the addresses actually
/// dialled, so a DNS answer cannot change between check and connect (DNS rebinding), and every redirect hop passes
/// through it too.
/// </summary>
public static class OutboundAddresses
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

    /// <summary>Public, or in one of <paramref name="allowedPrivateNetworks"/> (CIDR, already validated).</summary>
    public static bool IsAllowed(IPAddress address, IEnumerable<string> allowedPrivateNetworks) =>
        IsPublic(address) || allowedPrivateNetworks.Any(n => IPNetwork.Parse(n).Contains(Canonical(address)));

    /// <summary>The entries of <paramref name="networks"/> that are not a network in CIDR notation, for options validation.</summary>
    public static IEnumerable<string> InvalidNetworks(IEnumerable<string> networks) => networks.Where(n => !IPNetwork.TryParse(n, out _));

    /// <summary>IPv4 mapped to IPv6 as the IPv4 address.</summary>
    public static IPAddress Canonical(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> body: resolves the host and connects only when every address it
    /// resolves to passes <paramref name="allowed"/>; otherwise throws <see cref="EgressDeniedException"/>.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, Func<IPAddress, bool> allowed, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new EgressDeniedException($"The host '{endpoint.Host}' has no address.");
        }

        if (addresses.FirstOrDefault(a => !allowed(a)) is { } denied)
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
}

/// <summary>A connection the outbound address policy refused.</summary>
public sealed class EgressDeniedException(string message) : Exception(message);
