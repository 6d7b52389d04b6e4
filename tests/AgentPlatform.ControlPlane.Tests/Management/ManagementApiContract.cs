using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.Management;

/// <summary>Users, tenants, audit and dead letters through the gateway, against SQLite and PostgreSQL alike.</summary>
public abstract class ManagementApiContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private const string Password = "A-long-enough-password-42";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_creates_a_user_who_signs_in_and_sees_their_permissions()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userName = Unique("dev");

        using var created = await admin.PostAsJsonAsync("/api/users", new { userName, displayName = "Dev One", password = Password, roles = new[] { Roles.Developer } }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = await created.ReadJsonAsync();
        Assert.Equal(userName, user.GetProperty("userName").GetString());

        using var developer = platform.CreateClient(await platform.SignInAsync(userName, Password));
        var me = await developer.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        Assert.Equal("default", me.GetProperty("tenantId").GetString());
        Assert.Equal([Roles.Developer], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains(Permissions.SubAgentsWrite, me.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.DoesNotContain(Permissions.UsersManage, me.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Invalid_or_duplicate_users_are_refused_with_problem_details_and_nothing_is_written()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var userName = Unique("dup");

        using var invalid = await admin.PostAsJsonAsync("/api/users", new { userName = "x", displayName = "", password = "short", roles = Array.Empty<string>() }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        var errors = (await invalid.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.EnumerateObject().Count() >= 3, errors.ToString());

        using var first = await admin.PostAsJsonAsync("/api/users", new { userName, displayName = "One", password = Password, roles = new[] { Roles.Viewer } }, Ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var second = await admin.PostAsJsonAsync("/api/users", new { userName = userName.ToUpperInvariant(), displayName = "Two", password = Password, roles = new[] { Roles.Viewer } }, Ct);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var normalized = userName.ToUpperInvariant();
        Assert.Equal(1, await db.Users.CountAsync(u => u.NormalizedUserName == normalized, Ct));
        Assert.False(await db.Users.AnyAsync(u => u.UserName == "x", Ct));
    }

    [Fact]
    public async Task Roles_cannot_be_escalated()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantAdminName = Unique("ta");
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName = tenantAdminName, displayName = "TA", password = Password, roles = new[] { Roles.TenantAdmin } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var tenantAdminToken = await platform.SignInAsync(tenantAdminName, Password);
        using var tenantAdmin = platform.CreateClient(tenantAdminToken);
        using var escalation = await tenantAdmin.PostAsJsonAsync("/api/users", new { userName = Unique("pa"), displayName = "PA", password = Password, roles = new[] { Roles.PlatformAdmin } }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, escalation.StatusCode);

        var me = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        using var selfPromotion = await tenantAdmin.PatchAsJsonAsync($"/api/users/{me.GetProperty("subject").GetString()}", new { roles = new[] { Roles.PlatformAdmin, Roles.TenantAdmin } }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, selfPromotion.StatusCode);

        using var tenants = await tenantAdmin.GetAsync(new Uri("/api/tenants", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, tenants.StatusCode);

        var viewerName = Unique("viewer");
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName = viewerName, displayName = "V", password = Password, roles = new[] { Roles.Viewer } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var viewer = platform.CreateClient(await platform.SignInAsync(viewerName, Password));
        using var viewerCreates = await viewer.PostAsJsonAsync("/api/users", new { userName = Unique("x"), displayName = "X", password = Password, roles = new[] { Roles.Viewer } }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, viewerCreates.StatusCode);
        using var viewerAudit = await viewer.GetAsync(new Uri("/api/audit", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, viewerAudit.StatusCode);
    }

    [Fact]
    public async Task A_new_tenant_is_isolated_from_every_other()
    {
        var platform = await fixture.GetAsync();
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantId = Unique("acme");
        var acmeAdminName = Unique("acme-admin");

        using (var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Acme", adminUserName = acmeAdminName, adminPassword = Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var again = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Acme", adminUserName = Unique("other"), adminPassword = Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        var defaultAdminId = (await platformAdmin.GetFromJsonAsync<JsonElement>("/api/me", Ct)).GetProperty("subject").GetString();
        using var acme = platform.CreateClient(await platform.SignInAsync(acmeAdminName, Password));
        var me = await acme.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        Assert.Equal(tenantId, me.GetProperty("tenantId").GetString());

        var users = await acme.GetFromJsonAsync<JsonElement>("/api/users", Ct);
        Assert.Equal([acmeAdminName], users.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("userName").GetString()));

        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => acme.GetAsync(new Uri($"/api/users/{defaultAdminId}", UriKind.Relative), Ct),
            () => acme.PatchAsJsonAsync($"/api/users/{defaultAdminId}", new { displayName = "pwned" }, Ct),
            () => acme.PostAsJsonAsync($"/api/users/{defaultAdminId}/password", new { newPassword = "Another-long-password-1" }, Ct),
        })
        {
            using var response = await request();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        var acmeAudit = await acme.GetFromJsonAsync<JsonElement>("/api/audit", Ct);
        Assert.DoesNotContain(acmeAudit.GetProperty("items").EnumerateArray(), r => r.GetProperty("targetId").GetString() == defaultAdminId);
        Assert.Contains(acmeAudit.GetProperty("items").EnumerateArray(), r => r.GetProperty("action").GetString() == "tenant.created");
    }

    [Fact]
    public async Task Every_change_is_in_the_hash_chained_audit_trail_and_tampering_is_detected()
    {
        var platform = await fixture.GetAsync();
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantId = Unique("audited");
        var adminName = Unique("audited-admin");
        using (await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Audited", adminUserName = adminName, adminPassword = Password }, Ct))
        {
        }

        using var tenantAdmin = platform.CreateClient(await platform.SignInAsync(adminName, Password));
        var userName = Unique("audited-user");
        using var created = await tenantAdmin.PostAsJsonAsync("/api/users", new { userName, displayName = "U", password = Password, roles = new[] { Roles.Viewer } }, Ct);
        var userId = (await created.ReadJsonAsync()).GetProperty("id").GetString();
        using (await tenantAdmin.PatchAsJsonAsync($"/api/users/{userId}", new { roles = new[] { Roles.Operator } }, Ct))
        {
        }

        var trail = await tenantAdmin.GetFromJsonAsync<JsonElement>($"/api/audit?targetId={userId}", Ct);
        var records = trail.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["user.updated", "user.created"], records.Select(r => r.GetProperty("action").GetString()));
        Assert.All(records, r => Assert.Matches("^[0-9a-f]{32}$", r.GetProperty("traceId").GetString()));
        Assert.NotEqual(records[0].GetProperty("beforeDigest").GetString(), records[0].GetProperty("afterDigest").GetString());

        var verification = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/audit/verify", Ct);
        Assert.True(verification.GetProperty("isValid").GetBoolean(), verification.ToString());
        Assert.True(verification.GetProperty("verifiedRecords").GetInt64() >= 3);

        await using (var scope = platform.CreateTenantScope(tenantId))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            var record = await db.AuditRecords.SingleAsync(r => r.Action == "user.updated", Ct);
            record.ActorId = "someone-else";
            await db.SaveChangesAsync(Ct);
        }

        verification = await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/audit/verify", Ct);
        Assert.False(verification.GetProperty("isValid").GetBoolean());
        Assert.Equal(records[0].GetProperty("sequence").GetInt64(), verification.GetProperty("firstInvalidSequence").GetInt64());
    }

    [Fact]
    public async Task Operators_list_and_replay_their_tenants_dead_letters_only()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var operatorName = Unique("op");
        using (await admin.PostAsJsonAsync("/api/users", new { userName = operatorName, displayName = "Op", password = Password, roles = new[] { Roles.Operator } }, Ct))
        {
        }

        var deadLetterId = Guid.NewGuid();
        var foreignId = Guid.NewGuid();
        await using (var scope = platform.CreateTenantScope("default"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.DeadLetters.Add(NewDeadLetter(deadLetterId, "default"));
            await db.SaveChangesAsync(Ct);
        }

        await using (var scope = platform.ControlPlaneServices.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<Infrastructure.Tenancy.TenantContext>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            db.DeadLetters.Add(NewDeadLetter(foreignId, "someone-else"));
            await db.SaveChangesAsync(Ct);
        }

        using var operatorClient = platform.CreateClient(await platform.SignInAsync(operatorName, Password));
        var list = await operatorClient.GetFromJsonAsync<JsonElement>("/api/dead-letters?subscription=audit-test", Ct);
        Assert.Equal([deadLetterId.ToString()], list.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetString()));

        using var foreign = await operatorClient.PostAsync(new Uri($"/api/dead-letters/{foreignId}/replay", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);

        using var replay = await operatorClient.PostAsync(new Uri($"/api/dead-letters/{deadLetterId}/replay", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(1, (await replay.ReadJsonAsync()).GetProperty("replayCount").GetInt32());

        await using (var scope = platform.CreateTenantScope("default"))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            Assert.True(await db.AuditRecords.AnyAsync(r => r.Action == "dead-letter.replayed" && r.TargetId == deadLetterId.ToString(), Ct));
            Assert.True(await db.OutboxMessages.AnyAsync(m => m.Topic == "agentplatform.test" && m.Headers.Contains("audit-test"), Ct));
        }
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 9, 60)];

    private static DeadLetter NewDeadLetter(Guid id, string tenantId) => new()
    {
        Id = id,
        TenantId = tenantId,
        EventId = Guid.NewGuid(),
        Topic = "agentplatform.test",
        Type = "test.happened.v1",
        Subscription = "audit-test",
        OccurredAt = DateTime.UtcNow,
        Payload = "{}",
        Headers = "{}",
        Attempts = 3,
        Error = "boom",
        FailedAt = DateTime.UtcNow,
    };
}

public sealed class SqliteManagementApiTests(SqlitePlatformFixture fixture) : ManagementApiContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresManagementApiTests(PostgresPlatformFixture fixture) : ManagementApiContract<PostgresPlatformFixture>(fixture);
