using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPlatform.ControlPlane.Tests.ModelGateway;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>The platform service client <c>worker</c>, configured as the AppHost configures it.</summary>
public static class ServiceClient
{
    public const string Id = "worker";
    public const string Secret = "test-only-service-client-secret-0123456789";

    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        [$"Identity:ServiceClients:{Id}:Secret"] = Secret,
    };
}

public sealed class SqliteServiceTokenFixture : PlatformFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => ServiceClient.Settings;

    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresServiceTokenFixture : PlatformFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => ServiceClient.Settings;

    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}

/// <summary>
/// Service tokens (docs/decisions/0007-service-tokens.md): a configured platform service client gets
/// <c>client_credentials</c> tokens for a tenant it names, optionally on behalf of one of the tenant's enabled
/// users, with the non-assignable <c>platform-service</c> role that may use models and nothing else. Requests go
/// to the control plane's own address, as the worker's do.
/// </summary>
public abstract class ServiceTokenContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static AuthenticationHeaderValue ServiceCredentials => AuthServer.Basic(ServiceClient.Id, ServiceClient.Secret);

    [Fact]
    public async Task A_service_client_gets_a_platform_service_token_for_the_tenant_it_names()
    {
        var platform = await fixture.GetAsync();

        var answer = await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(answer.Headers.CacheControl?.NoStore);
        Assert.Equal("Bearer", answer.Body.GetProperty("token_type").GetString());
        Assert.Equal(900, answer.Body.GetProperty("expires_in").GetInt32());
        Assert.False(answer.HasRefreshToken);
        var claims = AuthServer.Payload(answer.AccessToken);
        Assert.Equal("default", claims.GetProperty("tenant_id").GetString());
        Assert.Equal("service:worker", claims.GetProperty("sub").GetString());
        Assert.Equal(ServiceClient.Id, claims.GetProperty("client_id").GetString());
        Assert.Equal([Roles.PlatformService], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(900, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());
        Assert.False(claims.TryGetProperty("key_owner", out _));
        Assert.False(claims.TryGetProperty("api_key_id", out _));
        var validation = await platform.ValidateWithDiscoveryAsync(answer.AccessToken);
        Assert.True(validation.IsValid, validation.Exception?.ToString());

        // Form credentials work as well as HTTP Basic.
        var form = await RequestAsync(platform, authorization: null, ("client_id", ServiceClient.Id), ("client_secret", ServiceClient.Secret), ("tenant_id", "default"));
        Assert.Equal(HttpStatusCode.OK, form.Status);
    }

    [Fact]
    public async Task On_behalf_of_a_user_the_token_names_that_user_as_key_owner()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userId = await CreateUserAsync(admin, "on-behalf", Roles.Viewer);

        var answer = await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", userId));

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var claims = AuthServer.Payload(answer.AccessToken);
        Assert.Equal(userId, claims.GetProperty("key_owner").GetString());
        Assert.Equal("service:worker", claims.GetProperty("sub").GetString());
        // The user's own roles do not come along: a viewer's service token still holds platform-service only.
        Assert.Equal([Roles.PlatformService], claims.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        // Any spelling of the id names the same user; the claim carries the canonical one.
        var upper = await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", userId.ToUpperInvariant()));
        Assert.Equal(userId, AuthServer.Payload(upper.AccessToken).GetProperty("key_owner").GetString());
    }

    [Fact]
    public async Task A_wrong_secret_or_an_unknown_service_client_is_invalid_client()
    {
        var platform = await fixture.GetAsync();

        var wrongSecret = await RequestAsync(platform, AuthServer.Basic(ServiceClient.Id, ServiceClient.Secret + "x"), ("tenant_id", "default"));
        var shortSecret = await RequestAsync(platform, AuthServer.Basic(ServiceClient.Id, "x"), ("tenant_id", "default"));
        var unknownClient = await RequestAsync(platform, AuthServer.Basic("reporter", ServiceClient.Secret), ("tenant_id", "default"));
        var noSecret = await RequestAsync(platform, authorization: null, ("client_id", ServiceClient.Id), ("tenant_id", "default"));

        foreach (var answer in new[] { wrongSecret, shortSecret, unknownClient, noSecret })
        {
            Assert.True(answer.Status == HttpStatusCode.Unauthorized, $"Expected 401 invalid_client, got {(int)answer.Status} {answer.Body}");
            Assert.Equal("invalid_client", answer.Error);
        }

        Assert.Contains(wrongSecret.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
        // A wrong secret and an unknown client cannot be told apart.
        Assert.Equal(unknownClient.Body.ToString(), wrongSecret.Body.ToString());
    }

    [Fact]
    public async Task The_tenant_is_required_and_must_exist_and_be_enabled()
    {
        var platform = await fixture.GetAsync();
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (disabledTenant, _) = await CreateTenantAsync(platform, platformAdmin);
        using (var disabled = await platformAdmin.PatchAsJsonAsync($"/api/tenants/{disabledTenant}", new { disabled = true }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        AssertOAuthError(await RequestAsync(platform, ServiceCredentials), "invalid_request");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", "Not A Tenant")), "invalid_request");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", AuthServer.Unique("missing"))), "invalid_grant");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", disabledTenant)), "invalid_grant");
    }

    [Fact]
    public async Task On_behalf_of_must_name_an_enabled_user_of_that_tenant()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (otherTenant, otherAdminId) = await CreateTenantAsync(platform, admin);
        var disabledUserId = await CreateUserAsync(admin, "disabled", Roles.Operator);
        using (var disabled = await admin.PatchAsJsonAsync($"/api/users/{disabledUserId}", new { disabled = true }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", "admin")), "invalid_request");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", Guid.NewGuid().ToString())), "invalid_grant");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", otherAdminId)), "invalid_grant");
        AssertOAuthError(await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", disabledUserId)), "invalid_grant");

        // The same user in its own tenant is fine.
        var own = await RequestAsync(platform, ServiceCredentials, ("tenant_id", otherTenant), ("on_behalf_of", otherAdminId));
        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal(otherTenant, AuthServer.Payload(own.AccessToken).GetProperty("tenant_id").GetString());
    }

    [Fact]
    public async Task A_tenants_own_client_can_neither_name_a_tenant_nor_act_on_behalf_of_a_user()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        using var created = await admin.PostAsJsonAsync("/api/clients", new { name = "Integrator", roles = new[] { Roles.Operator } }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var client = await created.ReadJsonAsync();
        var credentials = AuthServer.Basic(client.GetProperty("clientId").GetString()!, client.GetProperty("clientSecret").GetString()!);
        var adminId = (await admin.GetFromJsonAsync<JsonElement>("/api/me", Ct)).GetProperty("subject").GetString()!;

        AssertOAuthError(await RequestAsync(platform, credentials, ("tenant_id", "default")), "invalid_request");
        AssertOAuthError(await RequestAsync(platform, credentials, ("on_behalf_of", adminId)), "invalid_request");
        Assert.Equal(HttpStatusCode.OK, (await RequestAsync(platform, credentials)).Status);
    }

    [Fact]
    public async Task Nobody_can_give_the_platform_service_role_to_a_user_client_or_api_key()
    {
        var platform = await fixture.GetAsync();
        // The bootstrap admin is platform-admin and tenant-admin: it holds every permission, and still cannot.
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userId = await CreateUserAsync(admin, "no-service", Roles.Viewer);
        var roles = new[] { Roles.PlatformService };

        using (var key = await admin.PostAsJsonAsync("/api/api-keys", new { name = "service", roles, expiresAt = DateTimeOffset.UtcNow.AddDays(30) }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, key.StatusCode);
            Assert.Equal("application/problem+json", key.Content.Headers.ContentType?.MediaType);
        }

        using (var client = await admin.PostAsJsonAsync("/api/clients", new { name = "service", roles }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, client.StatusCode);
        }

        // The users API answers every role it will not give with 403, unknown ones included.
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName = AuthServer.Unique("svc"), displayName = "svc", password = AuthServer.Password, roles }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, created.StatusCode);
        }

        using (var update = await admin.PatchAsJsonAsync($"/api/users/{userId}", new { roles = new[] { Roles.Viewer, Roles.PlatformService } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, update.StatusCode);
        }

        var user = await admin.GetFromJsonAsync<JsonElement>($"/api/users/{userId}", Ct);
        Assert.Equal([Roles.Viewer], user.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task A_service_token_calls_models_for_the_user_it_acts_for_and_may_do_nothing_else()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userId = await CreateUserAsync(admin, "task-owner", Roles.Operator);
        var token = (await RequestAsync(platform, ServiceCredentials, ("tenant_id", "default"), ("on_behalf_of", userId))).AccessToken;

        // Inside the platform, where the worker calls the model gateway.
        var modelGatewayAddress = platform.GatewayServices.GetRequiredService<IConfiguration>()["services:modelgateway:http:0"]!;
        using (var worker = new HttpClient { BaseAddress = new Uri(modelGatewayAddress) })
        {
            worker.DefaultRequestHeaders.Authorization = ModelApi.Bearer(token);
            var answer = await worker.ChatAsync(ModelApi.Chat("offline", "summarise the task"));
            Assert.True(answer.Status == HttpStatusCode.OK, answer.Describe);
        }

        var call = Assert.Single(await ChatContract.WaitForUsageAsync(admin, $"userId={userId}", expected: 1));
        Assert.Equal(userId, call.GetProperty("userId").GetString());
        Assert.Equal("service:worker", call.GetProperty("subject").GetString());
        Assert.Equal(JsonValueKind.Null, call.GetProperty("apiKeyId").ValueKind);

        using var asService = platform.CreateClient(token);
        foreach (var path in new[] { "/api/users", "/api/api-keys", "/api/clients", "/api/audit", "/api/model-budgets", "/api/model-usage/calls", "/api/tenants" })
        {
            using var response = await asService.GetAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"GET {path}: {(int)response.StatusCode}");
        }

        using (var createKey = await asService.PostAsJsonAsync("/api/api-keys", new { name = "escape", roles = new[] { Roles.Operator }, expiresAt = DateTimeOffset.UtcNow.AddDays(30) }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, createKey.StatusCode);
        }

        // Models: use yes; the dry-run hooks and model management no.
        Assert.Equal(HttpStatusCode.OK, (await asService.ModelsAsync()).Status);
        var dryRun = ModelApi.Chat("offline", "pretend");
        dryRun["agentplatform"] = new JsonObject { ["mock_response"] = "mocked" };
        (await asService.ChatAsync(dryRun)).AssertOpenAiError(HttpStatusCode.Forbidden, code: "permission_denied");
    }

    [Fact]
    public async Task The_service_token_client_gets_caches_and_reports_refusals_against_the_real_token_endpoint()
    {
        var platform = await fixture.GetAsync();
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddHttpClient(ServiceTokenClient.HttpClientName);
        services.AddSingleton(Options.Create(new ServiceTokenOptions
        {
            ClientId = ServiceClient.Id,
            Secret = ServiceClient.Secret,
            TokenEndpoint = new Uri(platform.ControlPlaneAddress, "/auth/token"),
        }));
        services.AddSingleton<ServiceTokenClient>();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<ServiceTokenClient>();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userId = await CreateUserAsync(admin, "client-user", Roles.Viewer);

        var first = await client.GetAccessTokenAsync("default", userId, Ct);
        var again = await client.GetAccessTokenAsync("default", userId, Ct);
        var tenantOnly = await client.GetAccessTokenAsync("default", null, Ct);

        Assert.Same(first, again);
        Assert.NotEqual(first, tenantOnly);
        Assert.Equal(userId, AuthServer.Payload(first).GetProperty("key_owner").GetString());
        Assert.False(AuthServer.Payload(tenantOnly).TryGetProperty("key_owner", out _));
        var refused = await Assert.ThrowsAsync<ServiceTokenException>(() => client.GetAccessTokenAsync("default", Guid.NewGuid().ToString(), Ct));
        Assert.Equal("invalid_grant", refused.Error);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("invalid_grant", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<OAuthAnswer> RequestAsync(RunningPlatform platform, AuthenticationHeaderValue? authorization, params (string Name, string Value)[] parameters)
    {
        using var internalClient = new HttpClient { BaseAddress = platform.ControlPlaneAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/token")
        {
            Content = new FormUrlEncodedContent(AuthServer.Form([("grant_type", "client_credentials"), .. parameters])),
        };
        request.Headers.Authorization = authorization;
        using var response = await internalClient.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new OAuthAnswer(response.StatusCode, body, response.Headers, response.Content.Headers.ContentType?.MediaType);
    }

    private static void AssertOAuthError(OAuthAnswer answer, string error)
    {
        Assert.True(answer.Status == HttpStatusCode.BadRequest, $"Expected 400 {error}, got {(int)answer.Status} {answer.Body}");
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal(error, answer.Error);
        Assert.False(string.IsNullOrEmpty(answer.ErrorDescription));
    }

    /// <summary>Creates a user in the caller's tenant and returns its id.</summary>
    private static async Task<string> CreateUserAsync(HttpClient admin, string prefix, params string[] roles)
    {
        using var created = await admin.PostAsJsonAsync(
            "/api/users", new { userName = AuthServer.Unique(prefix), displayName = prefix, password = AuthServer.Password, roles }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return (await created.ReadJsonAsync()).GetProperty("id").GetString()!;
    }

    /// <summary>Creates a tenant (as platform admin) and returns its id and its first admin's user id.</summary>
    private static async Task<(string TenantId, string AdminId)> CreateTenantAsync(RunningPlatform platform, HttpClient platformAdmin)
    {
        var tenantId = AuthServer.Unique("svc");
        var adminUserName = AuthServer.Unique("svc-admin");
        using (var created = await platformAdmin.PostAsJsonAsync(
            "/api/tenants", new { id = tenantId, displayName = "Service tokens", adminUserName, adminPassword = AuthServer.Password }, Ct))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        }

        using var tenantAdmin = platform.CreateClient(await platform.SignInAsync(adminUserName, AuthServer.Password));
        var me = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        return (tenantId, me.GetProperty("subject").GetString()!);
    }
}

public sealed class SqliteServiceTokenTests(SqliteServiceTokenFixture fixture) : ServiceTokenContract<SqliteServiceTokenFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresServiceTokenTests(PostgresServiceTokenFixture fixture) : ServiceTokenContract<PostgresServiceTokenFixture>(fixture);
