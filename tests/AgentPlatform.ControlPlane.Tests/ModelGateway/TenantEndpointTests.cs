using System.Net;
using AgentPlatform.ControlPlane.Tests.Models;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing.ModelUpstream;
using static AgentPlatform.ControlPlane.Tests.Models.ModelAdminApi;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

public sealed class TenantEndpointFixture : ModelGatewayFixture
{
    protected override IEnumerable<TestRoute> Routes => [TestRoute.Of("operator-local", 1)];

    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        // The scripted upstream's address, and no other private one.
        ["ModelGateway:TenantEndpoints:AllowedPrivateNetworks:0"] = "127.0.0.1/32",
        // A route created by a test must serve that test's next call.
        ["ModelGateway:RouteCacheDuration"] = "00:00:00.050",
    };
}

/// <summary>
/// A tenant admin's route, created through the admin API, calls its own endpoint with its own encrypted credential,
/// and only where tenant endpoints may connect: a private address outside the allowed networks is refused before
/// anything is sent, while the operator's routes are not limited.
/// </summary>
public sealed class TenantEndpointTests(TenantEndpointFixture fixture) : IClassFixture<TenantEndpointFixture>
{
    private ScriptedOpenAiUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task A_tenant_route_calls_its_endpoint_with_its_credential_when_the_address_is_allowed()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var credential = await admin.CreateCredentialAsync("sk-tenant-own-key-4242");
        var alias = Unique("tenant-ok");
        await admin.CreateRouteAsync(alias, Deployment("own", endpoint: Upstream.BaseAddress.ToString(), model: $"{alias}-model", credentialId: credential));

        var answer = await admin.ChatAsync(ModelApi.Chat(alias, "from the tenant's route"));

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        Assert.Equal("Scripted reply to: from the tenant's route", answer.Content);
        Assert.Equal($"{alias}-model", answer.Header("x-agentplatform-model-served"));
        Assert.Equal("Bearer sk-tenant-own-key-4242", Assert.Single(Upstream.CallsFor($"{alias}-model")).Authorization);
    }

    [Fact]
    public async Task A_tenant_route_to_a_private_address_outside_the_allowed_networks_is_refused_and_sends_nothing()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var credential = await admin.CreateCredentialAsync("sk-tenant-other-key-0001");
        var alias = Unique("tenant-private");
        // Loopback as well, but not the allowed 127.0.0.1: nothing listens there, so only the policy can explain the refusal.
        var elsewhere = new UriBuilder(Upstream.BaseAddress) { Host = "127.0.0.2" }.Uri;
        await admin.CreateRouteAsync(alias, Deployment("own", endpoint: elsewhere.ToString(), model: $"{alias}-model", credentialId: credential));

        var answer = await admin.ChatAsync(ModelApi.Chat(alias, "reach inside"));
        var operatorRoute = await admin.ChatAsync(ModelApi.Chat("operator-local", "the operator's route"));

        Assert.True(answer.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, answer.Describe);
        var error = answer.AssertOpenAiError(answer.Status);
        Assert.Contains("127.0.0.2", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("non-public address", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Upstream.CallsFor($"{alias}-model"));
        Assert.True(operatorRoute.Status == HttpStatusCode.OK, operatorRoute.Describe);
    }
}
