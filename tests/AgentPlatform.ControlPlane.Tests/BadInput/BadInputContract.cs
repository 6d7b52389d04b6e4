using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.BadInput;

/// <summary>
/// Issue 3's bad-input suite, through the gateway on SQLite and PostgreSQL: every attack gets a clear 4xx in
/// the right shape (problem+json on /api, OAuth error JSON on /auth) and leaves nothing behind.
/// </summary>
public abstract class BadInputContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(ForgedTokens.Theory), MemberType = typeof(ForgedTokens))]
    public async Task A_forged_or_misused_token_is_refused_at_the_gateway_and_by_the_service_and_changes_nothing(string kind)
    {
        var platform = await fixture.GetAsync();
        var signIn = await platform.PasswordAsync("admin", RunningPlatform.AdminPassword);
        var ring = platform.ControlPlaneServices.GetRequiredService<SigningKeyRing>();
        var jwks = await ring.GetJwksAsync(Ct);
        var issuer = platform.GatewayAddress.ToString().TrimEnd('/');
        var token = await ForgedTokens.CreateAsync(kind, signIn.AccessToken, signIn.RefreshToken, issuer, ring, jwks);
        var userName = $"forged-{kind}-{Guid.NewGuid():N}"[..40];

        foreach (var address in new[] { platform.GatewayAddress, platform.ControlPlaneAddress })
        {
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

            using var me = await client.GetAsync(new Uri("/api/me", UriKind.Relative), Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
            Assert.Equal("application/problem+json", me.Content.Headers.ContentType?.MediaType);
            Assert.Contains(me.Headers.WwwAuthenticate, challenge => challenge.Scheme == "Bearer");

            using var create = await client.PostAsJsonAsync("/api/users", new { userName, displayName = "x", password = AuthServer.Password, roles = new[] { Roles.TenantAdmin } }, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        }

        await using var scope = platform.CreateTenantScope("default");
        var normalized = userName.ToUpperInvariant();
        Assert.False(await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Users.IgnoreQueryFilters().AnyAsync(u => u.NormalizedUserName == normalized, Ct));
    }

    [Fact]
    public async Task An_access_token_is_not_a_refresh_token()
    {
        var platform = await fixture.GetAsync();
        var signIn = await platform.PasswordAsync("admin", RunningPlatform.AdminPassword);

        var answer = await platform.RefreshAsync(signIn.AccessToken);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("application/json", answer.ContentType);
        Assert.Equal("invalid_grant", answer.Error);

        // The real refresh token still works: the misuse changed nothing.
        Assert.Equal(HttpStatusCode.OK, (await platform.RefreshAsync(signIn.RefreshToken)).Status);
    }

    [Fact]
    public async Task Malformed_requests_get_problem_details_and_write_nothing()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = await CountUsersAsync(platform);

        using var brokenJson = await admin.PostAsync(new Uri("/api/users", UriKind.Relative), new StringContent("{\"userName\": ", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, brokenJson.StatusCode);
        Assert.Equal("application/problem+json", brokenJson.Content.Headers.ContentType?.MediaType);

        using var wrongType = await admin.PostAsync(new Uri("/api/users", UriKind.Relative), new StringContent("userName=x", Encoding.UTF8, "text/plain"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);

        using var badPage = await admin.GetAsync(new Uri("/api/users?pageSize=100000", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badPage.StatusCode);
        Assert.Equal("application/problem+json", badPage.Content.Headers.ContentType?.MediaType);

        using var notAGuid = await admin.GetAsync(new Uri("/api/users/not-a-guid", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, notAGuid.StatusCode);

        var tasksBefore = await CountTasksAsync(platform);
        using var brokenTask = await admin.PostAsync(new Uri("/api/tasks", UriKind.Relative), new StringContent("{\"input\": ", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, brokenTask.StatusCode);
        Assert.Equal("application/problem+json", brokenTask.Content.Headers.ContentType?.MediaType);

        using var textTask = await admin.PostAsync(new Uri("/api/tasks", UriKind.Relative), new StringContent("input=x", Encoding.UTF8, "text/plain"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, textTask.StatusCode);

        // Task ids are not route-constrained, so a malformed one is the client's mistake, not a missing task.
        using var notATaskId = await admin.GetAsync(new Uri("/api/tasks/not-a-guid", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, notATaskId.StatusCode);
        Assert.Equal("application/problem+json", notATaskId.Content.Headers.ContentType?.MediaType);

        using var badTaskPage = await admin.GetAsync(new Uri("/api/tasks?pageSize=100000", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badTaskPage.StatusCode);

        var oauth = await platform.TokenAsync(AuthServer.Form(("grant_type", "password"), ("username", new string('a', 5000)), ("password", "x")));
        Assert.Equal(HttpStatusCode.BadRequest, oauth.Status);
        Assert.Equal("invalid_request", oauth.Error);

        var unknownGrant = await platform.TokenAsync(AuthServer.Form(("grant_type", "implicit")));
        Assert.Equal("unsupported_grant_type", unknownGrant.Error);

        Assert.Equal(before, await CountUsersAsync(platform));
        Assert.Equal(tasksBefore, await CountTasksAsync(platform));
    }

    [Fact]
    public async Task Oversized_bodies_are_refused_before_they_reach_the_service()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = await CountUsersAsync(platform);

        var huge = new string('x', 17 * 1024 * 1024);
        using var create = await admin.PostAsJsonAsync("/api/users", new { userName = "huge-user", displayName = huge, password = AuthServer.Password, roles = new[] { Roles.Viewer } }, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, create.StatusCode);

        var oauth = await platform.TokenAsync(AuthServer.Form(("grant_type", "password"), ("username", "admin"), ("password", new string('p', 100 * 1024))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oauth.Status);

        Assert.Equal(before, await CountUsersAsync(platform));
    }

    [Fact]
    public async Task Another_tenants_ids_are_not_found_on_every_endpoint_and_the_tenant_comes_only_from_the_credential()
    {
        var platform = await fixture.GetAsync();
        using var defaultAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantId = $"other-{Guid.NewGuid():N}"[..20];
        var otherAdminName = $"other-admin-{Guid.NewGuid():N}"[..30];
        using (var created = await defaultAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Other", adminUserName = otherAdminName, adminPassword = AuthServer.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // Ids that belong to tenant "default".
        var me = await defaultAdmin.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        var userId = me.GetProperty("subject").GetString();
        var apiKey = await (await defaultAdmin.PostAsJsonAsync("/api/api-keys", new { name = "k", roles = new[] { Roles.Viewer }, expiresAt = DateTimeOffset.UtcNow.AddDays(1) }, Ct)).ReadJsonAsync();
        var client = await (await defaultAdmin.PostAsJsonAsync("/api/clients", new { name = "c", roles = new[] { Roles.Viewer } }, Ct)).ReadJsonAsync();
        var audit = await defaultAdmin.GetFromJsonAsync<JsonElement>("/api/audit?pageSize=1", Ct);
        var auditId = audit.GetProperty("items")[0].GetProperty("id").GetString();
        var credentialId = (await (await defaultAdmin.PostAsJsonAsync("/api/provider-credentials", new { name = $"probe-{Guid.NewGuid():N}", secret = "sk-probe-secret-1234" }, Ct)).ReadJsonAsync()).GetProperty("id").GetString();
        var deployment = new { name = "d", provider = "offline", model = "echo" };
        var routeId = (await (await defaultAdmin.PostAsJsonAsync("/api/model-routes", new { alias = $"probe-{Guid.NewGuid():N}", strategy = "priority", deployments = new[] { deployment } }, Ct)).ReadJsonAsync()).GetProperty("id").GetString();
        var budgetId = (await (await defaultAdmin.PostAsJsonAsync("/api/model-budgets", new { scope = "api-key", subjectId = apiKey.GetProperty("id").GetString(), limitMicros = 1, period = "daily" }, Ct)).ReadJsonAsync()).GetProperty("id").GetString();
        var taskId = (await (await defaultAdmin.PostAsJsonAsync("/api/tasks", new { input = "probe" }, Ct)).ReadJsonAsync()).GetProperty("task_id").GetString();
        var documentId = (await (await defaultAdmin.PostAsJsonAsync("/api/knowledge/documents", new { title = "probe", content = "probe" }, Ct)).ReadJsonAsync()).GetProperty("document_id").GetString();

        using var other = platform.CreateClient(await platform.SignInAsync(otherAdminName, AuthServer.Password));
        var probes = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Get, $"/api/users/{userId}", null),
            (HttpMethod.Patch, $"/api/users/{userId}", new { displayName = "pwned" }),
            (HttpMethod.Post, $"/api/users/{userId}/password", new { newPassword = "Pwned-password-12345" }),
            (HttpMethod.Get, $"/api/api-keys/{apiKey.GetProperty("id").GetString()}", null),
            (HttpMethod.Delete, $"/api/api-keys/{apiKey.GetProperty("id").GetString()}", null),
            (HttpMethod.Get, $"/api/clients/{client.GetProperty("id").GetString()}", null),
            (HttpMethod.Delete, $"/api/clients/{client.GetProperty("id").GetString()}", null),
            (HttpMethod.Get, $"/api/audit/{auditId}", null),
            (HttpMethod.Get, $"/api/dead-letters/{Guid.NewGuid()}", null),
            (HttpMethod.Get, $"/api/provider-credentials/{credentialId}", null),
            (HttpMethod.Put, $"/api/provider-credentials/{credentialId}/secret", new { secret = "sk-pwned-secret-0000" }),
            (HttpMethod.Delete, $"/api/provider-credentials/{credentialId}", null),
            (HttpMethod.Get, $"/api/model-routes/{routeId}", null),
            (HttpMethod.Put, $"/api/model-routes/{routeId}", new { alias = "pwned", strategy = "priority", deployments = new[] { deployment } }),
            (HttpMethod.Delete, $"/api/model-routes/{routeId}", null),
            (HttpMethod.Get, $"/api/model-budgets/{budgetId}", null),
            (HttpMethod.Get, $"/api/model-budgets/{budgetId}/status", null),
            (HttpMethod.Put, $"/api/model-budgets/{budgetId}", new { limitMicros = 0 }),
            (HttpMethod.Delete, $"/api/model-budgets/{budgetId}", null),
            (HttpMethod.Get, $"/api/tasks/{taskId}", null),
            (HttpMethod.Post, $"/api/tasks/{taskId}/cancel", null),
            (HttpMethod.Get, $"/api/tasks/{taskId}/events", null),
            (HttpMethod.Get, $"/api/knowledge/documents/{documentId}", null),
            (HttpMethod.Delete, $"/api/knowledge/documents/{documentId}", null),
        };
        foreach (var (method, path, body) in probes)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Any);
            using var response = await other.SendAsync(request, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // A tenant named in the body, query or headers is ignored: the user lands in the caller's tenant.
        var smuggled = $"smuggled-{Guid.NewGuid():N}"[..30];
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/users?tenantId=default&tenant_id=default")
        {
            Content = JsonContent.Create(new { userName = smuggled, displayName = "S", password = AuthServer.Password, roles = new[] { Roles.Viewer }, tenantId = "default", tenant_id = "default" }),
        })
        {
            request.Headers.Add("x-tenant-id", "default");
            using var response = await other.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        await using (var scope = platform.CreateTenantScope(tenantId))
        {
            var normalized = smuggled.ToUpperInvariant();
            Assert.True(await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Users.AnyAsync(u => u.NormalizedUserName == normalized, Ct));
        }

        // Nothing the probes tried happened.
        var defaultUser = await defaultAdmin.GetFromJsonAsync<JsonElement>($"/api/users/{userId}", Ct);
        Assert.NotEqual("pwned", defaultUser.GetProperty("displayName").GetString());
        Assert.Equal("queued", (await defaultAdmin.GetFromJsonAsync<JsonElement>($"/api/tasks/{taskId}", Ct)).GetProperty("status").GetString());
        Assert.Equal("pending", (await defaultAdmin.GetFromJsonAsync<JsonElement>($"/api/knowledge/documents/{documentId}", Ct)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await platform.ExchangeApiKeyAsync(apiKey.GetProperty("key").GetString()!)).Status);
    }

    [Fact]
    public async Task Password_guessing_locks_the_account_and_even_the_right_password_is_refused_until_the_lockout_ends()
    {
        var platform = await fixture.GetAsync();
        var userName = await platform.CreateUserAsync("brute", Roles.Viewer);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var wrong = await platform.PasswordAsync(userName, $"wrong-password-{attempt}");
            Assert.Equal(HttpStatusCode.BadRequest, wrong.Status);
            Assert.Equal("invalid_grant", wrong.Error);
        }

        var right = await platform.PasswordAsync(userName, AuthServer.Password);
        Assert.Equal(HttpStatusCode.BadRequest, right.Status);
        Assert.Equal("invalid_grant", right.Error);
        Assert.False(right.HasRefreshToken);
    }

    private static async Task<int> CountUsersAsync(RunningPlatform platform)
    {
        await using var scope = platform.CreateTenantScope("default");
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Users.CountAsync(Ct);
    }

    private static async Task<int> CountTasksAsync(RunningPlatform platform)
    {
        await using var scope = platform.CreateTenantScope("default");
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.CountAsync(Ct);
    }
}

public sealed class SqliteBadInputTests(SqlitePlatformFixture fixture) : BadInputContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresBadInputTests(PostgresPlatformFixture fixture) : BadInputContract<PostgresPlatformFixture>(fixture);
