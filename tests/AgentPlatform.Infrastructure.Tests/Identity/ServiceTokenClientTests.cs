using System.Net;
using System.Net.Sockets;
using AgentPlatform.Infrastructure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Infrastructure.Tests.Identity;

/// <summary>
/// <see cref="ServiceTokenClient"/>, registered with <see cref="ServiceTokenExtensions.AddServiceTokens"/> on a fake
/// clock, against a real HTTP token endpoint: what it sends, how long it reuses a token, how callers share
/// requests, how it bounds its cache and how it reports refusals.
/// </summary>
public sealed class ServiceTokenClientTests : IAsyncLifetime
{
    private const string ClientId = "worker";

    // ':' and '+' must survive the Basic header's form-encoding.
    private const string Secret = "s3cret:with+special/chars-0123456789abcdef";

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private readonly List<IHost> hosts = [];
    private ScriptedTokenEndpoint endpoint = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => endpoint = await ScriptedTokenEndpoint.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }

        await endpoint.DisposeAsync();
    }

    [Fact]
    public async Task Tokens_are_requested_as_the_service_client_for_the_tenant_and_the_user_it_acts_for()
    {
        var client = await StartClientAsync();

        var forUser = await client.GetAccessTokenAsync("acme", "0199b1c2-0000-7000-8000-000000000001", Ct);
        var forTenant = await client.GetAccessTokenAsync("acme", null, Ct);

        Assert.Equal("at-1", forUser);
        Assert.Equal("at-2", forTenant);
        Assert.Equal(
            [
                new ReceivedTokenRequest(ClientId, Secret, "client_credentials", "acme", "0199b1c2-0000-7000-8000-000000000001"),
                new ReceivedTokenRequest(ClientId, Secret, "client_credentials", "acme", null),
            ],
            endpoint.Requests);
    }

    [Fact]
    public async Task A_token_is_reused_per_tenant_and_user_until_a_minute_before_it_expires()
    {
        var client = await StartClientAsync();

        var first = await client.GetAccessTokenAsync("acme", "u-1", Ct);
        Assert.Equal(first, await client.GetAccessTokenAsync("acme", "u-1", Ct));
        var otherUser = await client.GetAccessTokenAsync("acme", "u-2", Ct);
        var tenantOnly = await client.GetAccessTokenAsync("acme", null, Ct);
        var otherTenant = await client.GetAccessTokenAsync("globex", "u-1", Ct);
        Assert.Equal(4, new[] { first, otherUser, tenantOnly, otherTenant }.Distinct().Count());
        Assert.Equal(4, endpoint.Requests.Count);

        // 900 s tokens are reused for 840 s.
        time.Advance(TimeSpan.FromSeconds(839));
        Assert.Equal(first, await client.GetAccessTokenAsync("acme", "u-1", Ct));
        Assert.Equal(4, endpoint.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        var renewed = await client.GetAccessTokenAsync("acme", "u-1", Ct);
        Assert.NotEqual(first, renewed);
        Assert.Equal(5, endpoint.Requests.Count);
        Assert.Equal(renewed, await client.GetAccessTokenAsync("acme", "u-1", Ct));
    }

    [Fact]
    public async Task A_token_shorter_lived_than_the_refresh_margin_is_used_once_and_not_kept()
    {
        endpoint.ExpiresIn = 45;
        var client = await StartClientAsync();

        var first = await client.GetAccessTokenAsync("acme", null, Ct);
        var second = await client.GetAccessTokenAsync("acme", null, Ct);

        Assert.NotEqual(first, second);
        Assert.Equal(2, endpoint.Requests.Count);
        Assert.Equal(0, client.CachedTokenCount);
    }

    [Fact]
    public async Task Concurrent_callers_for_the_same_tenant_and_user_share_one_request()
    {
        var client = await StartClientAsync();
        endpoint.HoldAnswers();

        var sameUser = Enumerable.Range(0, 16).Select(_ => client.GetAccessTokenAsync("acme", "u-1", Ct)).ToList();
        await endpoint.FirstRequestArrived.WaitAsync(Ct);
        var otherUser = client.GetAccessTokenAsync("acme", "u-2", Ct);
        endpoint.ReleaseAnswers();

        var tokens = await Task.WhenAll(sameUser);
        Assert.Single(tokens.Distinct());
        Assert.NotEqual(tokens[0], await otherUser);
        Assert.Equal(["u-1", "u-2"], endpoint.Requests.Select(r => r.OnBehalfOf).Order());
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_request_the_others_wait_for()
    {
        var client = await StartClientAsync();
        endpoint.HoldAnswers();
        using var impatient = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var givesUp = client.GetAccessTokenAsync("acme", "u-1", impatient.Token);
        var waits = client.GetAccessTokenAsync("acme", "u-1", Ct);
        await endpoint.FirstRequestArrived.WaitAsync(Ct);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givesUp);
        endpoint.ReleaseAnswers();
        Assert.Equal("at-1", await waits);
        Assert.Equal("at-1", await client.GetAccessTokenAsync("acme", "u-1", Ct));
        Assert.Single(endpoint.Requests);
    }

    [Fact]
    public async Task A_refusal_throws_with_the_oauth_error_and_is_not_remembered()
    {
        var client = await StartClientAsync();
        endpoint.Refuse(400, "invalid_grant", "The tenant 'gone' is unknown or disabled.");

        var refused = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("gone", "u-1", Ct));

        Assert.Equal("invalid_grant", refused.Error);
        Assert.Equal("The tenant 'gone' is unknown or disabled.", refused.ErrorDescription);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("tenant 'gone' on behalf of user 'u-1'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("invalid_grant (The tenant 'gone' is unknown or disabled.)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, client.CachedTokenCount);

        // The next call asks again.
        Assert.Equal("at-1", await client.GetAccessTokenAsync("gone", "u-1", Ct));
        Assert.Equal(2, endpoint.Requests.Count);
    }

    [Fact]
    public async Task A_wrong_secret_is_reported_as_invalid_client()
    {
        var client = await StartClientAsync();
        endpoint.Refuse(401, "invalid_client", "The client is unknown, revoked or its secret is wrong.");

        var refused = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("acme", null, Ct));

        Assert.Equal("invalid_client", refused.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Answers_that_are_neither_a_token_nor_an_oauth_error_throw_without_an_error_code()
    {
        var client = await StartClientAsync();
        endpoint.Answer(502, "text/html", "<html>bad gateway</html>");
        endpoint.Answer(200, "application/json", """{"access_token":"at-x","token_type":"mac","expires_in":900}""");
        endpoint.Answer(200, "application/json", "not json");

        var badGateway = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("acme", null, Ct));
        var notBearer = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("acme", null, Ct));
        var notJson = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("acme", null, Ct));

        Assert.Equal(HttpStatusCode.BadGateway, badGateway.StatusCode);
        Assert.Contains("502", badGateway.Message, StringComparison.Ordinal);
        Assert.All(new[] { badGateway, notBearer, notJson }, exception => Assert.Null(exception.Error));
        Assert.IsType<System.Text.Json.JsonException>(notJson.InnerException, exactMatch: false);
        Assert.Equal(0, client.CachedTokenCount);
    }

    [Fact]
    public async Task An_unreachable_token_endpoint_throws_a_service_token_exception()
    {
        var client = await StartClientAsync(new Uri($"http://127.0.0.1:{UnusedPort()}/auth/token"));

        var failed = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("acme", null, Ct));

        Assert.Null(failed.Error);
        Assert.Null(failed.StatusCode);
        Assert.IsType<HttpRequestException>(failed.InnerException);
        Assert.Contains("tenant 'acme'", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cache_keeps_at_most_the_configured_number_of_tokens_and_drops_the_one_due_soonest()
    {
        var client = await StartClientAsync(maxCachedTokens: 2);

        var first = await client.GetAccessTokenAsync("tenant-1", null, Ct);
        time.Advance(TimeSpan.FromSeconds(10));
        var second = await client.GetAccessTokenAsync("tenant-2", null, Ct);
        time.Advance(TimeSpan.FromSeconds(10));
        await client.GetAccessTokenAsync("tenant-3", null, Ct);

        Assert.Equal(2, client.CachedTokenCount);
        Assert.Equal(second, await client.GetAccessTokenAsync("tenant-2", null, Ct));
        Assert.Equal(3, endpoint.Requests.Count);
        Assert.NotEqual(first, await client.GetAccessTokenAsync("tenant-1", null, Ct));
        Assert.Equal(4, endpoint.Requests.Count);
        Assert.Equal(2, client.CachedTokenCount);
    }

    [Theory]
    [InlineData(null, Secret, "ServiceTokens:ClientId is required")]
    [InlineData(ClientId, null, "ServiceTokens:Secret is required")]
    [InlineData(ClientId, "too-short", "ServiceTokens:Secret must have at least 32 characters")]
    public async Task Missing_or_weak_credentials_stop_the_service_on_start(string? clientId, string? secret, string message)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceTokens:ClientId"] = clientId,
            ["ServiceTokens:Secret"] = secret,
        });
        builder.AddServiceTokens();
        using var host = builder.Build();

        var failed = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains(message, failed.Message, StringComparison.Ordinal);
    }

    private async Task<ServiceTokenClient> StartClientAsync(Uri? tokenEndpoint = null, int? maxCachedTokens = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["ServiceTokens:ClientId"] = ClientId,
            ["ServiceTokens:Secret"] = Secret,
            ["ServiceTokens:TokenEndpoint"] = (tokenEndpoint ?? endpoint.TokenEndpoint).ToString(),
        };
        if (maxCachedTokens is { } max)
        {
            settings["ServiceTokens:MaxCachedTokens"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.AddServiceTokens();
        var host = builder.Build();
        hosts.Add(host);
        await host.StartAsync(Ct);
        return host.Services.GetRequiredService<ServiceTokenClient>();
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
