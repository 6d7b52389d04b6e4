using System.Net;
using System.Net.Http.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing.ModelUpstream;

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
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ScriptedOpenAiUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task A_tenant_route_calls_its_endpoint_with_its_credential_when_the_address_is_allowed()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var credential = await CreateCredentialAsync(admin, "sk-tenant-own-key-4242");
        var alias = Unique("tenant-ok");
        await CreateRouteAsync(admin, alias, Upstream.BaseAddress, $"{alias}-model", credential);

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
        var credential = await CreateCredentialAsync(admin, "sk-tenant-other-key-0001");
        var alias = Unique("tenant-private");
        // Loopback as well, but not the allowed 127.0.0.1: nothing listens there, so only the policy can explain the refusal.
        var elsewhere = new UriBuilder(Upstream.BaseAddress) { Host = "127.0.0.2" }.Uri;
        await CreateRouteAsync(admin, alias, elsewhere, $"{alias}-model", credential);

        var answer = await admin.ChatAsync(ModelApi.Chat(alias, "reach inside"));
        var operatorRoute = await admin.ChatAsync(ModelApi.Chat("operator-local", "the operator's route"));

        Assert.True(answer.Status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, answer.Describe);
        var error = answer.AssertOpenAiError(answer.Status);
        Assert.Contains("127.0.0.2", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("non-public address", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Upstream.CallsFor($"{alias}-model"));
        Assert.True(operatorRoute.Status == HttpStatusCode.OK, operatorRoute.Describe);
    }

    private static async Task<Guid> CreateCredentialAsync(HttpClient admin, string secret)
    {
        using var created = await admin.PostAsJsonAsync("/api/provider-credentials", new { name = Unique("key"), secret }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return (await created.ReadJsonAsync()).GetProperty("id").GetGuid();
    }

    private static async Task CreateRouteAsync(HttpClient admin, string alias, Uri endpoint, string model, Guid credentialId)
    {
        var deployment = new
        {
            name = "own", provider = "openai", endpoint = endpoint.ToString(), model, credentialId, priority = 0, weight = 1, timeout = "00:00:10",
            maxRetries = 0, cooldown = "00:00:01", contextWindow = 128_000, inputPriceMicros = 0, outputPriceMicros = 0, cachedInputPriceMicros = 0,
            enabled = true,
        };
        using var created = await admin.PostAsJsonAsync("/api/model-routes", new { alias, strategy = "priority", fallbacks = Array.Empty<string>(), deployments = new[] { deployment } }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
