extern alias worker;

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure;
using AgentPlatform.Infrastructure.Identity;
using AgentPlatform.Infrastructure.Knowledge;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using worker::AgentPlatform.Worker.Knowledge;
using worker::AgentPlatform.Worker.Models;

namespace AgentPlatform.ControlPlane.Tests.Knowledge;

/// <summary>
/// The knowledge documents API through the gateway, against SQLite and PostgreSQL alike: documents are added
/// <c>pending</c> (inline, by claim check, or from a claim-check reference), listed, read and deleted with their
/// chunks; bad input is refused per field and writes nothing; permissions and tenants hold; and a Worker composed
/// like the real one (plus <c>AddKnowledge</c>) indexes what was added through the model gateway.
/// </summary>
public abstract class KnowledgeApiContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private const string Documents = "/api/knowledge/documents";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_document_is_added_pending_read_listed_and_audited()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        const string text = "# Expenses\n\nSubmit every receipt within thirty days.";

        using var created = await admin.PostAsJsonAsync(Documents, new { title = "  Expense policy ", content = text, source = "https://intranet.example.com/expenses" }, Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var document = await created.ReadJsonAsync();
        var id = document.GetProperty("document_id").GetGuid();
        Assert.Equal($"/api/knowledge/documents/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("Expense policy", document.GetProperty("title").GetString());
        Assert.Equal("https://intranet.example.com/expenses", document.GetProperty("source").GetString());
        Assert.Equal("text/markdown", document.GetProperty("content_type").GetString());
        Assert.Equal("pending", document.GetProperty("status").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(text), document.GetProperty("size").GetInt64());
        Assert.Equal(Sha256(text), document.GetProperty("sha256").GetString());
        Assert.Equal(0, document.GetProperty("chunk_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, document.GetProperty("content_ref_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, document.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, document.GetProperty("indexed_at").ValueKind);
        Assert.False(document.TryGetProperty("content", out _));

        var read = await admin.GetFromJsonAsync<JsonElement>($"{Documents}/{id}", Ct);
        Assert.Equal(document.GetRawText(), read.GetRawText());
        var listed = await admin.GetFromJsonAsync<JsonElement>($"{Documents}?pageSize=200", Ct);
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), d => d.GetProperty("document_id").GetGuid() == id);

        var stored = await WithDatabaseAsync(platform, "default", db => db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == id, Ct));
        Assert.Equal((text, (string?)null), (stored.Content, stored.ContentRefId));
        Assert.Equal(stored.CreatedBy, stored.ChargedUserId);
        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/audit?targetType=knowledge-document&pageSize=200", Ct);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("targetId").GetString() == id.ToString() && r.GetProperty("action").GetString() == "knowledge-document.added");
    }

    [Fact]
    public async Task Large_text_goes_to_the_claim_check_and_a_reference_is_copied_to_the_documents_own()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var large = string.Concat(Enumerable.Range(0, 900).Select(i => $"Paragraph {i} of the operations manual explains a runbook step.\n\n"));
        Assert.True(Encoding.UTF8.GetByteCount(large) > 32 * 1024);

        using var created = await admin.PostAsJsonAsync(Documents, new { title = "Operations manual", content = large, content_type = "text/plain" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var document = await created.ReadJsonAsync();
        var referenceId = document.GetProperty("content_ref_id").GetString();
        Assert.NotNull(referenceId);
        Assert.Equal("text/plain", document.GetProperty("content_type").GetString());
        Assert.Equal(Sha256(large), document.GetProperty("sha256").GetString());
        var stored = await WithDatabaseAsync(platform, "default", db => db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == document.GetProperty("document_id").GetGuid(), Ct));
        Assert.Null(stored.Content);
        Assert.Equal(large, await ReadPayloadAsync(platform, referenceId));

        // A client's own reference (with a charset, and a short life) becomes a reference of the document's own.
        const string referenced = "## Onboarding\n\nNew hires get their laptop on the first day.";
        var clients = await PutPayloadAsync(platform, "default", Encoding.UTF8.GetBytes(referenced), "text/markdown; charset=utf-8", TimeSpan.FromMinutes(5));
        using var fromReference = await admin.PostAsJsonAsync(Documents, new { title = "Onboarding", content_ref_id = clients.Id }, Ct);
        Assert.Equal(HttpStatusCode.Created, fromReference.StatusCode);
        var copied = await fromReference.ReadJsonAsync();
        Assert.Equal("text/markdown", copied.GetProperty("content_type").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(referenced), copied.GetProperty("size").GetInt64());
        Assert.Equal(clients.Sha256, copied.GetProperty("sha256").GetString());
        var copy = await WithDatabaseAsync(platform, "default", db => db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == copied.GetProperty("document_id").GetGuid(), Ct));
        // Small enough to keep inline: the document no longer depends on the client's reference.
        Assert.Equal((referenced, (string?)null), (copy.Content, copy.ContentRefId));
    }

    [Fact]
    public async Task Invalid_documents_are_refused_with_an_error_per_field_and_nothing_is_written()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var binary = await PutPayloadAsync(platform, "default", [0xFF, 0xFE, 0x00], "text/plain");
        var image = await PutPayloadAsync(platform, "default", [1, 2, 3], "image/png");
        var foreign = await PutPayloadAsync(platform, $"kn-{Guid.NewGuid():N}"[..20], "text in another tenant"u8.ToArray(), "text/plain");
        var before = await CountDocumentsAsync(platform);

        var cases = new (object Body, string[] Fields)[]
        {
            (new { content = "text" }, ["title"]),
            (new { title = "   ", content = "text" }, ["title"]),
            (new { title = new string('t', 301), content = "text" }, ["title"]),
            (new { title = "tab\there", content = "text", source = "line\nbreak" }, ["title", "source"]),
            (new { title = "t" }, ["content"]),
            (new { title = "t", content = "text", content_ref_id = "ref_" + new string('0', 32) }, ["content"]),
            (new { title = "t", content = " \n\t " }, ["content"]),
            (new { title = "t", content = "nul\0inside" }, ["content"]),
            (new { title = "t", content = "text", content_type = "application/pdf" }, ["content_type"]),
            (new { title = "t", content = "text", source = new string('s', 2001) }, ["source"]),
            (new { title = "t", content_ref_id = "ref with spaces\u00e9" }, ["content_ref_id"]),
            (new { title = "t", content_ref_id = "ref_" + new string('0', 32) }, ["content_ref_id"]),
            (new { title = "t", content_ref_id = foreign.Id }, ["content_ref_id"]),
            (new { title = "t", content_ref_id = binary.Id }, ["content_ref_id"]),
            (new { title = "t", content_ref_id = image.Id }, ["content_ref_id"]),
        };
        foreach (var (body, fields) in cases)
        {
            using var response = await admin.PostAsJsonAsync(Documents, body, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{JsonSerializer.Serialize(body)}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = (await response.ReadJsonAsync()).GetProperty("errors");
            Assert.Equal(fields.Order(), errors.EnumerateObject().Select(e => e.Name).Order());
        }

        using (var brokenJson = await admin.PostAsync(new Uri(Documents, UriKind.Relative), new StringContent("{\"title\": ", Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, brokenJson.StatusCode);
            Assert.Equal("application/problem+json", brokenJson.Content.Headers.ContentType?.MediaType);
        }

        using (var wrongType = await admin.PostAsync(new Uri(Documents, UriKind.Relative), new StringContent("{\"title\": 42, \"content\": true}", Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
            Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        }

        using (var text = await admin.PostAsync(new Uri(Documents, UriKind.Relative), new StringContent("title=x", Encoding.UTF8, "text/plain"), Ct))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        }

        foreach (var path in new[] { $"{Documents}/not-a-guid", $"{Documents}?status=done", $"{Documents}?pageSize=100000" })
        {
            using var response = await admin.GetAsync(new Uri(path, UriKind.Relative), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var notAnId = await admin.DeleteAsync(new Uri($"{Documents}/not-a-guid", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notAnId.StatusCode);
        }

        Assert.Equal(before, await CountDocumentsAsync(platform));
    }

    [Fact]
    public async Task Lists_page_newest_first_and_filter_by_status()
    {
        var platform = await fixture.GetAsync();
        var tenant = await CreateTenantAsync(platform);
        using var admin = platform.CreateClient(tenant.AdminToken);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await AddAsync(admin, $"Document {i}", $"Text {i}."));
        }

        // The indexer's work, done by hand: one indexed, one failed.
        await WithDatabaseAsync(platform, tenant.Id, async db =>
        {
            await db.KnowledgeDocuments.Where(d => d.Id == ids[1]).ExecuteUpdateAsync(set => set.SetProperty(d => d.Status, KnowledgeDocumentStatuses.Indexed).SetProperty(d => d.ChunkCount, 3), Ct);
            return await db.KnowledgeDocuments.Where(d => d.Id == ids[3]).ExecuteUpdateAsync(set => set.SetProperty(d => d.Status, KnowledgeDocumentStatuses.Failed).SetProperty(d => d.Error, "model unavailable"), Ct);
        });

        var first = await admin.GetFromJsonAsync<JsonElement>($"{Documents}?pageSize=2", Ct);
        Assert.Equal(5, first.GetProperty("totalCount").GetInt32());
        Assert.Equal([ids[4], ids[3]], first.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("document_id").GetGuid()));
        var third = await admin.GetFromJsonAsync<JsonElement>($"{Documents}?pageSize=2&page=3", Ct);
        Assert.Equal([ids[0]], third.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("document_id").GetGuid()));

        var indexed = await admin.GetFromJsonAsync<JsonElement>($"{Documents}?status=indexed", Ct);
        var only = Assert.Single(indexed.GetProperty("items").EnumerateArray());
        Assert.Equal((ids[1], 3), (only.GetProperty("document_id").GetGuid(), only.GetProperty("chunk_count").GetInt32()));
        var unfinished = await admin.GetFromJsonAsync<JsonElement>($"{Documents}?status=failed,pending&status=indexing", Ct);
        Assert.Equal([ids[4], ids[3], ids[2], ids[0]], unfinished.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("document_id").GetGuid()));
        var failed = await admin.GetFromJsonAsync<JsonElement>($"{Documents}/{ids[3]}", Ct);
        Assert.Equal(("failed", "model unavailable"), (failed.GetProperty("status").GetString(), failed.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Deleting_a_document_removes_its_chunks_and_is_audited()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var id = await AddAsync(admin, "Short-lived", "Soon gone.");
        var kept = await AddAsync(admin, "Kept", "Still here.");
        await WithDatabaseAsync(platform, "default", async db =>
        {
            foreach (var (documentId, ordinal) in new[] { (id, 0), (id, 1), (kept, 0) })
            {
                db.KnowledgeChunks.Add(new KnowledgeChunk
                {
                    Id = Guid.CreateVersion7(),
                    TenantId = "default",
                    DocumentId = documentId,
                    Ordinal = ordinal,
                    Text = "chunk",
                    Embedding = EmbeddingBytes.Encode([0.6f, 0.8f]),
                    Dimensions = 2,
                    EmbeddingModel = "test-model",
                });
            }

            return await db.SaveChangesAsync(Ct);
        });

        using (var deleted = await admin.DeleteAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var gone = await admin.GetAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Equal("application/problem+json", gone.Content.Headers.ContentType?.MediaType);
        }

        using (var again = await admin.DeleteAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        Assert.Equal(0, await WithDatabaseAsync(platform, "default", db => db.KnowledgeChunks.CountAsync(c => c.DocumentId == id, Ct)));
        Assert.Equal(1, await WithDatabaseAsync(platform, "default", db => db.KnowledgeChunks.CountAsync(c => c.DocumentId == kept, Ct)));
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?targetId={id}", Ct);
        Assert.Equal(["knowledge-document.deleted", "knowledge-document.added"], audit.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task Reading_needs_configuration_read_and_changing_needs_configuration_write()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var id = await AddAsync(admin, "Guarded", "Only some may change this.");
        using var viewer = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("kviewer", Roles.Viewer), AuthServer.Password));
        using var anonymous = platform.CreateClient(accessToken: null);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri(Documents, UriKind.Relative), Ct)).StatusCode);
        using (var add = await viewer.PostAsJsonAsync(Documents, new { title = "Nope", content = "Viewers only read." }, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, add.StatusCode);
            Assert.Equal("application/problem+json", add.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(Documents, UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync(Documents, new { title = "Nope", content = "x" }, Ct)).StatusCode);

        // A document added with an API key is charged to the key's creator; a developer may delete it.
        var adminSubject = (await admin.GetFromJsonAsync<JsonElement>("/api/me", Ct)).GetProperty("subject").GetString();
        using var createdKey = await admin.PostAsJsonAsync("/api/api-keys", new { name = "indexer", roles = new[] { Roles.Developer }, expiresAt = DateTimeOffset.UtcNow.AddDays(1) }, Ct);
        var key = await createdKey.ReadJsonAsync();
        using var withKey = platform.CreateClient((await platform.ExchangeApiKeyAsync(key.GetProperty("key").GetString()!)).AccessToken);
        var byKey = await AddAsync(withKey, "From a key", "Added by automation.");
        var stored = await WithDatabaseAsync(platform, "default", db => db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == byKey, Ct));
        Assert.Equal(adminSubject, stored.ChargedUserId);
        Assert.NotEqual(adminSubject, stored.CreatedBy);
        using var developer = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("kdev", Roles.Developer), AuthServer.Password));
        Assert.Equal(HttpStatusCode.NoContent, (await developer.DeleteAsync(new Uri($"{Documents}/{byKey}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_read_or_delete_this_tenants_documents()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var id = await AddAsync(admin, "Confidential", "Only the default tenant may read this.");
        var other = await CreateTenantAsync(platform);
        using var otherAdmin = platform.CreateClient(other.AdminToken);

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            using var response = await otherAdmin.SendAsync(new HttpRequestMessage(method, $"{Documents}/{id}"), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var theirs = await otherAdmin.GetFromJsonAsync<JsonElement>($"{Documents}?pageSize=200", Ct);
        Assert.DoesNotContain(theirs.GetProperty("items").EnumerateArray(), d => d.GetProperty("document_id").GetGuid() == id);
        var added = await AddAsync(otherAdmin, "Theirs", "A document of the other tenant.", extra: new Dictionary<string, object> { ["tenant_id"] = "default" });
        var stored = await WithDatabaseAsync(platform, other.Id, db => db.KnowledgeDocuments.AsNoTracking().SingleAsync(d => d.Id == added, Ct));
        Assert.Equal(other.Id, stored.TenantId);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(new Uri($"{Documents}/{id}", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_worker_indexes_an_added_document_through_the_model_gateway_and_search_finds_it()
    {
        var platform = await fixture.GetAsync();
        var tenant = await CreateTenantAsync(platform);
        using var admin = platform.CreateClient(tenant.AdminToken);
        var adminSubject = (await admin.GetFromJsonAsync<JsonElement>("/api/me", Ct)).GetProperty("subject").GetString();
        var policy = await AddAsync(admin, "Travel policy", "# Travel\n\nEconomy class is the default for flights under six hours.\n\nHotel nights are reimbursed up to the city limit.");
        var recipe = await AddAsync(admin, "Pasta", "Cook fresh tagliatelle for three minutes in salted boiling water.");

        // The Worker's composition (Program.cs) plus the knowledge store, against this platform.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(platform.WorkerSettings(new Dictionary<string, string?> { ["Knowledge:PollInterval"] = "00:00:00.100" }));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.AddPlatformInfrastructure();
        builder.AddServiceTokens();
        builder.AddModelGatewayClient();
        builder.AddKnowledge();
        using var worker = builder.Build();
        await worker.StartAsync(Ct);
        try
        {
            foreach (var id in new[] { policy, recipe })
            {
                var document = await WaitForIndexedAsync(admin, id);
                Assert.True(document.GetProperty("status").GetString() == "indexed", document.GetRawText());
                Assert.Equal("all-MiniLM-L6-v2", document.GetProperty("embedding_model").GetString());
                Assert.True(document.GetProperty("chunk_count").GetInt32() >= 1);
            }

            var search = worker.Services.GetRequiredService<KnowledgeSearch>();
            using (ModelCallScope.Begin(tenant.Id, adminSubject, Guid.CreateVersion7(), "main-agent", "retrieval"))
            {
                var hits = await search.SearchAsync(tenant.Id, "Which class do I fly on a short flight?", 2, Ct);
                Assert.Equal(("Travel policy", policy), (hits[0].Title, hits[0].DocumentId));
                Assert.Contains("Economy class", hits[0].Text, StringComparison.Ordinal);
            }
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }

        // The gateway recorded the indexing calls for the tenant, charged to the creator, with the document as the task.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<Infrastructure.Models.ModelUsageRecord> usage;
        while ((usage = await WithDatabaseAsync(platform, tenant.Id, db => db.ModelUsage.AsNoTracking().Where(u => u.TaskId == policy.ToString()).ToListAsync(Ct))).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no usage was recorded for the indexing call");
            await Task.Delay(100, Ct);
        }

        Assert.All(usage, u => Assert.Equal((KnowledgeIndexer.MainAgentId, adminSubject), (u.MainAgentId, u.UserId)));
    }

    private static async Task<JsonElement> WaitForIndexedAsync(HttpClient client, Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var document = await client.GetFromJsonAsync<JsonElement>($"{Documents}/{id}", Ct);
            if (document.GetProperty("status").GetString() is "indexed" or "failed")
            {
                return document;
            }

            Assert.True(DateTime.UtcNow < deadline, $"document {id} is still {document.GetProperty("status").GetString()} after 120 s");
            await Task.Delay(100, Ct);
        }
    }

    private static async Task<Guid> AddAsync(HttpClient client, string title, string content, Dictionary<string, object>? extra = null)
    {
        var body = new Dictionary<string, object> { ["title"] = title, ["content"] = content };
        foreach (var (name, value) in extra ?? [])
        {
            body[name] = value;
        }

        using var response = await client.PostAsJsonAsync(Documents, body, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        return (await response.ReadJsonAsync()).GetProperty("document_id").GetGuid();
    }

    private static async Task<(string Id, string AdminToken)> CreateTenantAsync(RunningPlatform platform)
    {
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var tenantId = $"kn-{Guid.NewGuid():N}"[..20];
        var adminName = $"kn-admin-{Guid.NewGuid():N}"[..30];
        using var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Knowledge", adminUserName = adminName, adminPassword = AuthServer.Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (tenantId, await platform.SignInAsync(adminName, AuthServer.Password));
    }

    private static async Task<PayloadReference> PutPayloadAsync(RunningPlatform platform, string tenantId, byte[] content, string contentType, TimeSpan? timeToLive = null)
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        using var stream = new MemoryStream(content);
        return await scope.ServiceProvider.GetRequiredService<IPayloadStore>().PutAsync(stream, contentType, timeToLive, Ct);
    }

    private static async Task<string> ReadPayloadAsync(RunningPlatform platform, string referenceId)
    {
        await using var scope = platform.CreateTenantScope("default");
        await using var payload = await scope.ServiceProvider.GetRequiredService<IPayloadStore>().OpenReadAsync(referenceId, Ct);
        Assert.NotNull(payload);
        using var reader = new StreamReader(payload.Content, Encoding.UTF8);
        return await reader.ReadToEndAsync(Ct);
    }

    private static async Task<T> WithDatabaseAsync<T>(RunningPlatform platform, string tenantId, Func<AgentPlatformDbContext, Task<T>> work)
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        return await work(scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>());
    }

    private static Task<int> CountDocumentsAsync(RunningPlatform platform) =>
        WithDatabaseAsync(platform, "default", db => db.KnowledgeDocuments.CountAsync(Ct));

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

public sealed class SqliteKnowledgeApiTests(SqlitePlatformFixture fixture) : KnowledgeApiContract<SqlitePlatformFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresKnowledgeApiTests(PostgresPlatformFixture fixture) : KnowledgeApiContract<PostgresPlatformFixture>(fixture);
