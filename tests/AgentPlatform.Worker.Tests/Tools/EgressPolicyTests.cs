using System.Net;
using AgentPlatform.Worker.Tools;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tests.Tools;

public sealed class EgressPolicyTests
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
        Assert.Equal(isPublic, EgressPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("api.example.com", true)]
    [InlineData("API.Example.COM.", true)]
    [InlineData("docs.example.org", true)]
    [InlineData("a.b.docs.example.org", true)]
    [InlineData("example.org", false)]
    [InlineData("docs.example.org.evil.com", false)]
    [InlineData("evilexample.org", false)]
    [InlineData("xapi.example.com", false)]
    [InlineData("203.0.113.7", true)]
    [InlineData("203.0.113.8", false)]
    public void Hosts_match_exactly_or_as_subdomains_of_a_wildcard(string host, bool allowed)
    {
        var policy = new EgressPolicy(Monitor(new HttpFetchOptions { AllowedHosts = ["api.example.com", "*.example.org", "203.0.113.7"] }));

        Assert.Equal(allowed, policy.IsHostAllowed(host));
    }

    [Fact]
    public void Nothing_is_allowed_by_default_and_private_networks_only_when_configured()
    {
        Assert.False(new EgressPolicy(Monitor(new HttpFetchOptions())).IsHostAllowed("example.com"));
        var policy = new EgressPolicy(Monitor(new HttpFetchOptions { AllowedPrivateNetworks = ["10.1.2.0/24"] }));

        Assert.True(policy.IsAddressAllowed(IPAddress.Parse("10.1.2.3")));
        Assert.False(policy.IsAddressAllowed(IPAddress.Parse("10.1.3.1")));
        Assert.False(policy.IsAddressAllowed(IPAddress.Parse("127.0.0.1")));
    }

    private static StaticMonitor Monitor(HttpFetchOptions options) => new(options);

    private sealed class StaticMonitor(HttpFetchOptions value) : IOptionsMonitor<HttpFetchOptions>
    {
        public HttpFetchOptions CurrentValue => value;

        public HttpFetchOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<HttpFetchOptions, string?> listener) => null;
    }
}
