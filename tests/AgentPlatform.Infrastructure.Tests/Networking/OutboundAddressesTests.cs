using System.Net;
using System.Net.Sockets;
using System.Text;
using AgentPlatform.Infrastructure.Networking;

namespace AgentPlatform.Infrastructure.Tests.Networking;

public sealed class OutboundAddressesTests
{
    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.255.0.9", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    [InlineData("64:ff9b::a9fe:a9fe", false)]
    [InlineData("64:ff9b::808:808", true)]
    [InlineData("2002:0a00:0001::1", false)]
    [InlineData("2001:db8::1", false)]
    public void Only_public_addresses_are_public(string address, bool isPublic) =>
        Assert.Equal(isPublic, OutboundAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.1.3.1", false)]
    [InlineData("::ffff:10.1.2.9", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("127.0.0.1", false)]
    public void Private_addresses_pass_only_in_an_allowed_network(string address, bool allowed) =>
        Assert.Equal(allowed, OutboundAddresses.IsAllowed(IPAddress.Parse(address), ["10.1.2.0/24"]));

    [Fact]
    public void Networks_that_are_not_CIDR_are_named() =>
        Assert.Equal(["10.0.0.1/33", "localhost"], OutboundAddresses.InvalidNetworks(["10.0.0.0/8", "10.0.0.1/33", "::1/128", "localhost"]));

    [Fact]
    public async Task A_connection_to_a_refused_address_is_never_opened()
    {
        await using var server = await OneAnswerServer.StartAsync();
        using var client = Client(_ => false);

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(server.Address, TestContext.Current.CancellationToken));

        var denied = Assert.IsType<EgressDeniedException>(exception.InnerException);
        Assert.Contains("127.0.0.1", denied.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Accepted);
    }

    [Fact]
    public async Task A_connection_to_an_allowed_address_is_made()
    {
        await using var server = await OneAnswerServer.StartAsync();
        using var client = Client(address => OutboundAddresses.IsAllowed(address, ["127.0.0.0/8"]));

        using var response = await client.GetAsync(server.Address, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1, server.Accepted);
    }

    [Fact]
    public async Task A_host_name_is_judged_by_every_address_it_resolves_to()
    {
        await using var server = await OneAnswerServer.StartAsync();
        using var client = Client(_ => false);
        var byName = new UriBuilder(server.Address) { Host = "localhost" }.Uri;

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(byName, TestContext.Current.CancellationToken));

        Assert.Contains("'localhost' resolves to", Assert.IsType<EgressDeniedException>(exception.InnerException).Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Accepted);
    }

    private static HttpClient Client(Func<IPAddress, bool> allowed) =>
        new(new SocketsHttpHandler { ConnectCallback = (context, token) => OutboundAddresses.ConnectAsync(context, allowed, token) });

    /// <summary>A TCP listener on loopback that answers every connection with one <c>204</c>.</summary>
    private sealed class OneAnswerServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stopping = new();
        private Task? accepting;
        private int accepted;

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

        public int Accepted => Volatile.Read(ref accepted);

        public static Task<OneAnswerServer> StartAsync()
        {
            var server = new OneAnswerServer();
            server.listener.Start();
            server.accepting = server.AcceptAsync();
            return Task.FromResult(server);
        }

        public async ValueTask DisposeAsync()
        {
            await stopping.CancelAsync();
            listener.Stop();
            try
            {
                await accepting!;
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped while waiting for the next connection.
            }

            stopping.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!stopping.IsCancellationRequested)
            {
                using var socket = await listener.AcceptSocketAsync(stopping.Token);
                Interlocked.Increment(ref accepted);
                var buffer = new byte[4096];
                await socket.ReceiveAsync(buffer, SocketFlags.None, stopping.Token);
                await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"), SocketFlags.None, stopping.Token);
                socket.Shutdown(SocketShutdown.Both);
            }
        }
    }
}
