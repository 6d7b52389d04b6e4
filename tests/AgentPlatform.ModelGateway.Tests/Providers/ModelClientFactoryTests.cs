using AgentPlatform.Domain.Models;
using AgentPlatform.Infrastructure.Networking;
using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ModelGateway.Providers;
using AgentPlatform.ModelGateway.Providers.Offline;
using AgentPlatform.ModelGateway.Routing;
using AgentPlatform.Testing;
using AgentPlatform.Testing.ModelUpstream;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Tests.Providers;

/// <summary>
/// Tenant-configured deployments reach only public addresses and the private networks the operator allows; the
/// operator's own deployments are not limited; no answer is read into memory beyond a limit. Against a real upstream
/// on loopback, which is private.
/// </summary>
public sealed class ModelClientFactoryTests : IAsyncLifetime
{
    private static readonly byte[] Request = """{"model":"alias","messages":[{"role":"user","content":"hello"}]}"""u8.ToArray();

    private readonly ModelGatewayOptions options = new();
    private readonly OfflineEmbeddingGenerator offlineEmbeddings = new();
    private ScriptedOpenAiUpstream upstream = null!;
    private ModelClientFactory factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        upstream = await ScriptedOpenAiUpstream.StartAsync(Ct);
        factory = new ModelClientFactory(new O200kTokenEstimator(), offlineEmbeddings, new FixedOptionsMonitor<ModelGatewayOptions>(options));
    }

    public async ValueTask DisposeAsync()
    {
        factory.Dispose();
        offlineEmbeddings.Dispose();
        await upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_tenant_endpoint_at_a_private_address_is_refused_before_anything_is_sent()
    {
        var relayed = await Assert.ThrowsAsync<HttpRequestException>(() => factory.Relay.CompleteAsync(Deployment("tenant-relay", tenant: true), Request, Ct));
        var viaSdk = await Assert.ThrowsAnyAsync<Exception>(() => factory.ChatClient(Deployment("tenant-sdk", tenant: true)).GetResponseAsync("hello", cancellationToken: Ct));

        Assert.IsType<EgressDeniedException>(relayed.InnerException);
        Assert.Contains("non-public address", relayed.Message, StringComparison.Ordinal);
        Assert.Contains("non-public address", UpstreamFailure.From(viaSdk).Message, StringComparison.Ordinal);
        Assert.Empty(upstream.Calls);
    }

    [Fact]
    public async Task The_operators_deployment_at_the_same_address_is_not_limited()
    {
        var completion = await factory.Relay.CompleteAsync(Deployment("platform-relay", tenant: false), Request, Ct);
        var response = await factory.ChatClient(Deployment("platform-sdk", tenant: false)).GetResponseAsync("hello", cancellationToken: Ct);

        Assert.Equal("platform-relay", completion.Model);
        Assert.Equal("Scripted reply to: hello", response.Text);
    }

    [Fact]
    public async Task A_private_network_the_operator_allows_is_reachable_for_tenants_without_a_restart()
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => factory.Relay.CompleteAsync(Deployment("tenant-later", tenant: true), Request, Ct));

        options.TenantEndpoints.AllowedPrivateNetworks.Add("127.0.0.0/8");
        var completion = await factory.Relay.CompleteAsync(Deployment("tenant-later", tenant: true), Request, Ct);

        Assert.Equal("tenant-later", completion.Model);
        Assert.Equal("Bearer sk-tenant", Assert.Single(upstream.CallsFor("tenant-later")).Authorization);
    }

    [Fact]
    public async Task An_answer_larger_than_the_relay_reads_fails_the_attempt()
    {
        upstream.Script("oversized", UpstreamStep.Reply(new string('x', ModelClientFactory.MaxResponseBytes + 1), 1, 1));

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => factory.Relay.CompleteAsync(Deployment("oversized", tenant: false), Request, Ct));

        Assert.Contains("maximum buffer size", exception.Message, StringComparison.Ordinal);
        Assert.Equal(ModelOutcomes.Error, UpstreamFailure.From(exception).Outcome);
    }

    private ModelDeploymentDefinition Deployment(string model, bool tenant) => new(
        "d", ModelProviders.OpenAi, upstream.BaseAddress, model, "sk-tenant", 0, 1, TimeSpan.FromSeconds(30), 0, TimeSpan.FromSeconds(30), 128_000,
        ModelPrice.Free, Enabled: true, TenantConfigured: tenant);
}
