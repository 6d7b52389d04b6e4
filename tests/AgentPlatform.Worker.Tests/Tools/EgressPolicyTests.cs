using System.Net;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Tools;

namespace AgentPlatform.Worker.Tests.Tools;

public sealed class EgressPolicyTests
{
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

    private static FixedOptionsMonitor<HttpFetchOptions> Monitor(HttpFetchOptions options) => new(options);
}
