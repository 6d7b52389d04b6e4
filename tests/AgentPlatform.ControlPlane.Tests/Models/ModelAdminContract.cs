using AgentPlatform.Domain.Models;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static AgentPlatform.ControlPlane.Tests.Models.ModelAdminApi;

namespace AgentPlatform.ControlPlane.Tests.Models;

/// <summary>
/// Issue 4's admin APIs through the gateway, against SQLite and PostgreSQL alike: provider credentials, model
/// routes with their deployments, budgets and usage reports.
/// </summary>
public abstract class ModelAdminContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_provider_secret_is_write_only_and_stored_encrypted_under_the_key_encryption_key()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        const string secret = "sk-test-first-secret-7g3Q";

        using var created = await admin.PostAsJsonAsync("/api/provider-credentials", new { name = Unique("openai"), secret }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        var credential = JsonDocument.Parse(body).RootElement;
        var id = credential.GetProperty("id").GetGuid();
        Assert.Equal("7g3Q", credential.GetProperty("hint").GetString());
        Assert.False(credential.TryGetProperty("secret", out _));
        Assert.False(credential.TryGetProperty("encryptedSecret", out _));

        foreach (var path in new[] { $"/api/provider-credentials/{id}", "/api/provider-credentials?pageSize=200" })
        {
            Assert.DoesNotContain("sk-test", await admin.GetStringAsync(new Uri(path, UriKind.Relative), Ct), StringComparison.Ordinal);
        }

        Assert.Equal(secret, await StoredSecretAsync(platform, id));

        const string rotated = "sk-test-rotated-secret-Zx9w";
        using (var rotation = await admin.PutAsJsonAsync($"/api/provider-credentials/{id}/secret", new { secret = rotated }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, rotation.StatusCode);
            Assert.Equal("Zx9w", (await rotation.ReadJsonAsync()).GetProperty("hint").GetString());
        }

        Assert.Equal(rotated, await StoredSecretAsync(platform, id));

        // A credential a route uses cannot go away under it.
        var route = await admin.CreateRouteAsync(Unique("uses-key"), Deployment("main", credentialId: id));
        using (var refused = await admin.DeleteAsync(new Uri($"/api/provider-credentials/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        await DeleteRouteAsync(admin, route);
        using (var deleted = await admin.DeleteAsync(new Uri($"/api/provider-credentials/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await admin.GetAsync(new Uri($"/api/provider-credentials/{id}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_route_is_created_read_replaced_and_deleted_as_one_document_under_its_etag()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var alias = Unique("chat");

        using var created = await admin.PostAsJsonAsync("/api/model-routes", new
        {
            alias,
            strategy = "weighted",
            fallbacks = new List<string> { "platform-default" },
            description = "Chat",
            deployments = new[] { Deployment("primary"), Deployment("secondary", provider: "ollama", endpoint: "http://ollama:11434") },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var route = await created.ReadJsonAsync();
        var id = route.GetProperty("id").GetString();
        var etag = created.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Equal(2, route.GetProperty("deployments").GetArrayLength());
        var primaryId = route.GetProperty("deployments").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "primary").GetProperty("id").GetString();

        using (var read = await admin.GetAsync(new Uri($"/api/model-routes/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(etag, read.Headers.ETag);
            Assert.Equal(["platform-default"], (await read.ReadJsonAsync()).GetProperty("fallbacks").EnumerateArray().Select(f => f.GetString()));
        }

        var replacement = new
        {
            alias,
            strategy = "priority",
            fallbacks = Array.Empty<string>(),
            deployments = new[] { Deployment("primary", model: "gpt-4.1"), Deployment("third", priority: 1) },
        };
        using (var missing = await admin.PutAsJsonAsync($"/api/model-routes/{id}", replacement, Ct))
        {
            Assert.Equal(HttpStatusCode.PreconditionRequired, missing.StatusCode);
        }

        EntityTagHeaderValue current;
        using (var replaced = await Send(admin, HttpMethod.Put, $"/api/model-routes/{id}", replacement, etag))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
            current = replaced.Headers.ETag!;
            Assert.NotEqual(etag, current);
            var after = await replaced.ReadJsonAsync();
            Assert.Equal("priority", after.GetProperty("strategy").GetString());
            var deployments = after.GetProperty("deployments").EnumerateArray().ToList();
            Assert.Equal(["primary", "third"], deployments.Select(d => d.GetProperty("name").GetString()));
            // A deployment that keeps its name keeps its id.
            Assert.Equal(primaryId, deployments[0].GetProperty("id").GetString());
            Assert.Equal("gpt-4.1", deployments[0].GetProperty("model").GetString());
        }

        // Someone who read the first version cannot overwrite or delete the second.
        using (var stale = await Send(admin, HttpMethod.Put, $"/api/model-routes/{id}", replacement, etag))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
            Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        }

        using (var staleDelete = await Send(admin, HttpMethod.Delete, $"/api/model-routes/{id}", null, etag))
        {
            Assert.Equal(HttpStatusCode.PreconditionFailed, staleDelete.StatusCode);
        }

        await using (var scope = platform.CreateTenantScope("default"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var routeId = Guid.Parse(id!);
            Assert.Equal(["primary", "third"], await db.ModelDeployments.Where(d => d.RouteId == routeId).OrderBy(d => d.Name).Select(d => d.Name).ToListAsync(Ct));
        }

        using (var deleted = await Send(admin, HttpMethod.Delete, $"/api/model-routes/{id}", null, current))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await admin.GetAsync(new Uri($"/api/model-routes/{id}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/audit?pageSize=200", Ct);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("targetId").GetString() == id && r.GetProperty("action").GetString() == "model-route.deleted");
    }

    [Fact]
    public async Task An_invalid_route_is_refused_with_an_error_per_field_and_nothing_is_written()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var alias = Unique("bad");

        using var invalid = await admin.PostAsJsonAsync("/api/model-routes", new
        {
            alias = "-" + alias,
            strategy = "random",
            fallbacks = new[] { "-" + alias },
            deployments = new object[]
            {
                Deployment("a", provider: "anthropic"),
                Deployment("a", provider: "azure-openai", endpoint: null),
                new
                {
                    name = "c", provider = "openai", endpoint = "ftp://example.com", model = "m", credentialId = Guid.NewGuid(),
                    timeout = "00:00:00", cooldown = "02:00:00", maxRetries = 9, weight = 0, inputPriceMicros = -1,
                },
            },
        }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        var errors = (await invalid.ReadJsonAsync()).GetProperty("errors");
        var fields = errors.EnumerateObject().Select(e => e.Name).ToHashSet();
        foreach (var field in new[]
        {
            "alias", "strategy", "fallbacks", "deployments[0].provider", "deployments[1].name", "deployments[1].endpoint", "deployments[2].endpoint",
            "deployments[2].credentialId", "deployments[2].timeout", "deployments[2].cooldown", "deployments[2].maxRetries", "deployments[2].weight",
            "deployments[2].prices",
        })
        {
            Assert.True(fields.Contains(field), $"No error for {field}: {errors}");
        }

        using (var empty = await admin.PostAsJsonAsync("/api/model-routes", new { alias, strategy = "priority", deployments = Array.Empty<object>() }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.True((await empty.ReadJsonAsync()).GetProperty("errors").TryGetProperty("deployments", out _));
        }

        await admin.CreateRouteAsync(alias, Deployment("only"));
        using (var duplicate = await admin.PostAsJsonAsync("/api/model-routes", new { alias, strategy = "priority", deployments = new[] { Deployment("x") } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            Assert.Equal("application/problem+json", duplicate.Content.Headers.ContentType?.MediaType);
        }

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Equal(1, await db.ModelRoutes.CountAsync(r => r.Alias == alias, Ct));
        Assert.False(await db.ModelRoutes.AnyAsync(r => r.Alias == "-" + alias, Ct));
    }

    [Fact]
    public async Task Fallbacks_that_would_close_a_cycle_are_refused()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var (a, b, c) = (Unique("a"), Unique("b"), Unique("c"));

        await admin.CreateRouteAsync(a, Deployment("d"), fallbacks: [b]);
        await admin.CreateRouteAsync(b, Deployment("d"), fallbacks: [c]);

        using (var cycle = await admin.PostAsJsonAsync("/api/model-routes", new { alias = c, strategy = "priority", fallbacks = new[] { a }, deployments = new[] { Deployment("d") } }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, cycle.StatusCode);
            var message = (await cycle.ReadJsonAsync()).GetProperty("errors").GetProperty("fallbacks")[0].GetString();
            Assert.Contains($"{c} → {a} → {b} → {c}", message, StringComparison.Ordinal);
        }

        using (var self = await admin.PostAsJsonAsync("/api/model-routes", new { alias = c, strategy = "priority", fallbacks = new[] { c }, deployments = new[] { Deployment("d") } }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
        }

        // Without the closing edge the chain is fine; closing it later through an update is refused too.
        var last = await admin.CreateRouteAsync(c, Deployment("d"));
        using var closing = await Send(admin, HttpMethod.Put, $"/api/model-routes/{last.Id}", new { alias = c, strategy = "priority", fallbacks = new[] { a }, deployments = new[] { Deployment("d") } }, last.ETag);
        Assert.Equal(HttpStatusCode.BadRequest, closing.StatusCode);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_use_or_change_this_tenants_routes_credentials_and_budgets()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var credentialId = (await (await admin.PostAsJsonAsync("/api/provider-credentials", new { name = Unique("key"), secret = "sk-default-tenant-1234" }, Ct)).ReadJsonAsync()).GetProperty("id").GetGuid();
        var route = await admin.CreateRouteAsync(Unique("private"), Deployment("d", credentialId: credentialId));
        var budget = await (await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "tenant", limitMicros = 1_000_000, period = "daily" }, Ct)).ReadJsonAsync();
        var budgetId = budget.GetProperty("id").GetString();

        using var other = platform.CreateClient(await CreateTenantAdminAsync(platform, admin));
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Get, $"/api/model-routes/{route.Id}", null),
            (HttpMethod.Put, $"/api/model-routes/{route.Id}", new { alias = "stolen", strategy = "priority", deployments = new[] { Deployment("d") } }),
            (HttpMethod.Delete, $"/api/model-routes/{route.Id}", null),
            (HttpMethod.Get, $"/api/provider-credentials/{credentialId}", null),
            (HttpMethod.Put, $"/api/provider-credentials/{credentialId}/secret", new { secret = "sk-stolen-secret-0000" }),
            (HttpMethod.Delete, $"/api/provider-credentials/{credentialId}", null),
            (HttpMethod.Get, $"/api/model-budgets/{budgetId}", null),
            (HttpMethod.Get, $"/api/model-budgets/{budgetId}/status", null),
            (HttpMethod.Put, $"/api/model-budgets/{budgetId}", new { limitMicros = 0 }),
            (HttpMethod.Delete, $"/api/model-budgets/{budgetId}", null),
        })
        {
            using var response = await Send(other, method, path, body, EntityTagHeaderValue.Any);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
        }

        foreach (var list in new[] { "/api/model-routes", "/api/provider-credentials", "/api/model-budgets" })
        {
            Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>(list, Ct)).GetProperty("totalCount").GetInt32());
        }

        // Nor can it point its own route at this tenant's credential.
        using (var borrowed = await other.PostAsJsonAsync("/api/model-routes", new { alias = "borrowed", strategy = "priority", deployments = new[] { Deployment("d", credentialId: credentialId) } }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, borrowed.StatusCode);
            Assert.True((await borrowed.ReadJsonAsync()).GetProperty("errors").TryGetProperty("deployments[0].credentialId", out _));
        }

        Assert.Equal("sk-default-tenant-1234", await StoredSecretAsync(platform, credentialId));
        using var unchanged = await admin.GetAsync(new Uri($"/api/model-routes/{route.Id}", UriKind.Relative), Ct);
        Assert.Equal(route.ETag, unchanged.Headers.ETag);
        Assert.Equal(1_000_000, (await admin.GetFromJsonAsync<JsonElement>($"/api/model-budgets/{budgetId}", Ct)).GetProperty("limitMicros").GetInt64());
        await admin.DeleteAsync(new Uri($"/api/model-budgets/{budgetId}", UriKind.Relative), Ct);
    }

    [Fact]
    public async Task Budgets_apply_to_subjects_of_the_tenant_and_their_status_reads_the_spending_counter()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userName = await platform.CreateUserAsync("budgeted", Roles.Developer);
        var userId = (await admin.GetFromJsonAsync<JsonElement>($"/api/users?search={userName}", Ct)).GetProperty("items")[0].GetProperty("id").GetString()!;
        var apiKeyId = (await (await admin.PostAsJsonAsync("/api/api-keys", new { name = "budgeted", roles = new[] { Roles.Developer }, expiresAt = DateTimeOffset.UtcNow.AddDays(1) }, Ct)).ReadJsonAsync()).GetProperty("id").GetString()!;

        using (var unknownUser = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "user", subjectId = Guid.NewGuid(), limitMicros = 5, period = "daily" }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknownUser.StatusCode);
            Assert.True((await unknownUser.ReadJsonAsync()).GetProperty("errors").TryGetProperty("subjectId", out _));
        }

        using (var badScope = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "team", subjectId = userId, limitMicros = 5, period = "weekly" }, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badScope.StatusCode);
        }

        using var created = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "user", subjectId = userId.ToUpperInvariant(), limitMicros = 2_000_000, period = "monthly" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var budget = await created.ReadJsonAsync();
        var budgetId = budget.GetProperty("id").GetString();
        Assert.Equal(userId, budget.GetProperty("subjectId").GetString());

        using (var duplicate = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "user", subjectId = userId, limitMicros = 1, period = "monthly" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        }

        using (var keyBudget = await admin.PostAsJsonAsync("/api/model-budgets", new { scope = "api-key", subjectId = apiKeyId, limitMicros = 10, period = "daily" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, keyBudget.StatusCode);
        }

        var counters = platform.ControlPlaneServices.GetRequiredService<ICounterStore>();
        var now = DateTimeOffset.UtcNow;
        await counters.IncrementAsync(ModelBudgetKeys.SpentKey("default", ModelBudgetKeys.UserScope, userId, ModelBudgetKeys.Monthly, now), 750_000, TimeSpan.FromDays(32), Ct);

        var status = await admin.GetFromJsonAsync<JsonElement>($"/api/model-budgets/{budgetId}/status", Ct);
        Assert.Equal(2_000_000, status.GetProperty("limitMicros").GetInt64());
        Assert.Equal(750_000, status.GetProperty("spentMicros").GetInt64());
        Assert.Equal(1_250_000, status.GetProperty("remainingMicros").GetInt64());
        Assert.Equal(ModelBudgetKeys.PeriodStart(ModelBudgetKeys.Monthly, now), status.GetProperty("periodStart").GetDateTimeOffset());
        Assert.Equal(ModelBudgetKeys.PeriodEnd(ModelBudgetKeys.Monthly, now), status.GetProperty("resetsAt").GetDateTimeOffset());

        using (var updated = await admin.PutAsJsonAsync($"/api/model-budgets/{budgetId}", new { limitMicros = 500_000 }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>($"/api/model-budgets/{budgetId}/status", Ct)).GetProperty("remainingMicros").GetInt64());

        using (var deleted = await admin.DeleteAsync(new Uri($"/api/model-budgets/{budgetId}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await admin.GetAsync(new Uri($"/api/model-budgets/{budgetId}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Usage_is_aggregated_per_day_model_key_and_user_for_the_callers_tenant_only()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var model = Unique("usage-model");
        var otherTenant = $"usage-{Guid.NewGuid():N}"[..20];
        var day1 = new DateOnly(2025, 3, 1);
        var day2 = day1.AddDays(1);
        await SeedUsageAsync(platform, "default",
            Usage(model, day1, "u1", "k1", input: 100, output: 10, cost: 1_000),
            Usage(model, day1, "u1", null, input: 50, output: 5, cost: 500, outcome: "error"),
            Usage(model, day2, "u2", "k1", input: 10, output: 1, cost: 100, cached: 4),
            Usage(model + "-other", day2, "u2", "k2", input: 1, output: 1, cost: 1));
        await SeedUsageAsync(platform, otherTenant, Usage(model, day1, "u1", "k1", input: 1_000_000, output: 1, cost: 9_999_999));

        var range = $"from={day1:yyyy-MM-dd}&to={day2:yyyy-MM-dd}";
        var byDay = await ReportAsync(admin, $"/api/model-usage?{range}&model={model}&groupBy=day");
        Assert.Equal(["2025-03-01", "2025-03-02"], byDay.Select(i => i.GetProperty("key").GetString()));
        Assert.Equal(2, byDay[0].GetProperty("calls").GetInt64());
        Assert.Equal(150, byDay[0].GetProperty("inputTokens").GetInt64());
        Assert.Equal(15, byDay[0].GetProperty("outputTokens").GetInt64());
        Assert.Equal(1_500, byDay[0].GetProperty("costMicros").GetInt64());
        Assert.Equal(1, byDay[0].GetProperty("errors").GetInt64());
        Assert.Equal(4, byDay[1].GetProperty("cachedInputTokens").GetInt64());

        var byKey = await ReportAsync(admin, $"/api/model-usage?{range}&model={model}&groupBy=apiKey");
        Assert.Equal([null, "k1"], byKey.Select(i => i.GetProperty("key").GetString()));
        Assert.Equal(1_100, byKey[1].GetProperty("costMicros").GetInt64());

        var byUser = await ReportAsync(admin, $"/api/model-usage?{range}&apiKeyId=k1&groupBy=user");
        Assert.Equal(["u1", "u2"], byUser.Select(i => i.GetProperty("key").GetString()));

        var byModel = await ReportAsync(admin, $"/api/model-usage?{range}&userId=u2&groupBy=model");
        Assert.Equal([model, model + "-other"], byModel.Select(i => i.GetProperty("key").GetString()));

        var calls = await admin.GetFromJsonAsync<JsonElement>($"/api/model-usage/calls?{range}&model={model}&pageSize=2", Ct);
        Assert.Equal(3, calls.GetProperty("totalCount").GetInt32());
        var newest = calls.GetProperty("items")[0];
        Assert.Equal(day2, DateOnly.Parse(newest.GetProperty("day").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("task-1", newest.GetProperty("taskId").GetString());
        Assert.Equal("[]", newest.GetProperty("attempts").GetString());

        using (var tooLong = await admin.GetAsync(new Uri("/api/model-usage?from=2024-01-01&to=2025-12-31", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
            Assert.Equal("application/problem+json", tooLong.Content.Headers.ContentType?.MediaType);
        }

        using (var backwards = await admin.GetAsync(new Uri($"/api/model-usage/calls?from={day2:yyyy-MM-dd}&to={day1:yyyy-MM-dd}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        }

        using (var badGrouping = await admin.GetAsync(new Uri($"/api/model-usage?{range}&groupBy=planet", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badGrouping.StatusCode);
        }
    }

    [Fact]
    public async Task Callers_without_models_manage_are_forbidden()
    {
        var platform = await fixture.GetAsync();
        using var developer = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("nomanage", Roles.Developer), AuthServer.Password));

        foreach (var path in new[] { "/api/model-routes", "/api/provider-credentials", "/api/model-budgets", "/api/model-usage", "/api/model-usage/calls" })
        {
            using var response = await developer.GetAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)response.StatusCode}");
        }
    }

    private static async Task DeleteRouteAsync(HttpClient admin, CreatedRoute route)
    {
        using var deleted = await Send(admin, HttpMethod.Delete, $"/api/model-routes/{route.Id}", null, route.ETag);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, object? body, EntityTagHeaderValue? ifMatch)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(ifMatch);
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task<string> StoredSecretAsync(RunningPlatform platform, Guid credentialId)
    {
        await using var scope = platform.CreateTenantScope("default");
        var stored = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().ProviderCredentials.AsNoTracking().SingleAsync(c => c.Id == credentialId, Ct);
        Assert.DoesNotContain("sk-", stored.EncryptedSecret, StringComparison.Ordinal);
        return platform.ControlPlaneServices.GetRequiredService<SecretProtector>()
            .UnprotectString(SecretPurposes.ProviderCredential, credentialId.ToString(), stored.EncryptedSecret);
    }

    private static async Task<string> CreateTenantAdminAsync(RunningPlatform platform, HttpClient platformAdmin)
    {
        var tenantId = $"models-{Guid.NewGuid():N}"[..20];
        var adminName = $"models-admin-{Guid.NewGuid():N}"[..30];
        using var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Other", adminUserName = adminName, adminPassword = AuthServer.Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return await platform.SignInAsync(adminName, AuthServer.Password);
    }

    private static async Task SeedUsageAsync(RunningPlatform platform, string tenantId, params ModelUsageRecord[] records)
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        foreach (var record in records)
        {
            record.TenantId = tenantId;
            db.ModelUsage.Add(record);
        }

        await db.SaveChangesAsync(Ct);
    }

    private static ModelUsageRecord Usage(
        string model, DateOnly day, string userId, string? apiKeyId, long input, long output, long cost, long cached = 0, string outcome = "ok") => new()
        {
            Id = Guid.NewGuid(),
            TenantId = "",
            OccurredAt = day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc).AddSeconds(Random.Shared.Next(1000)),
            Day = day,
            Subject = userId,
            UserId = userId,
            ApiKeyId = apiKeyId,
            Operation = "chat",
            ModelRequested = model,
            ModelServed = model,
            Deployment = "primary",
            AttemptCount = 1,
            Attempts = "[]",
            InputTokens = input,
            OutputTokens = output,
            CachedInputTokens = cached,
            CostMicros = cost,
            LatencyMilliseconds = 12.5,
            Outcome = outcome,
            StatusCode = outcome == "ok" ? 200 : 502,
            TaskId = "task-1",
        };

    private static async Task<List<JsonElement>> ReportAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray()];
    }

}

public sealed class SqliteModelAdminTests(SqlitePlatformFixture fixture) : ModelAdminContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresModelAdminTests(PostgresPlatformFixture fixture) : ModelAdminContract<PostgresPlatformFixture>(fixture);
