using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.Tasks;

/// <summary>
/// Issue 5's tasks API through the gateway, against SQLite and PostgreSQL alike: submission (inline, claim check,
/// context reference, idempotency, validation), reading, listing, cancelling, permissions and tenant isolation.
/// No Worker runs here: tasks stay queued unless a test moves them on as a runner would.
/// </summary>
public abstract class TasksApiContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static readonly int Threshold = new ClaimCheckOptions().InlineThresholdBytes;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_text_task_is_queued_with_its_ids_a_submitted_event_and_an_audit_record()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var subject = await admin.SubjectAsync();

        using var created = await admin.SubmitAsync(new { input = "Summarize the quarterly report.", sub_agents = new List<string> { "retrieval", "analysis" }, token_budget = 5000, priority = 7 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var task = await created.ReadJsonAsync();
        var taskId = task.TaskId();
        Assert.Equal($"/api/tasks/{taskId}", created.Headers.Location?.OriginalString);
        Assert.Equal(7, taskId.Version);
        Assert.Equal("queued", task.GetProperty("status").GetString());
        var traceId = task.GetProperty("trace_id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        // The edge's trace: the submission's span continues it, so the run will too.
        Assert.Equal(created.Headers.GetValues("x-trace-id").Single(), traceId);
        Assert.Equal(MainAgent.Id, task.GetProperty("main_agent_id").GetString());
        Assert.Equal(7, task.GetProperty("priority").GetInt32());
        Assert.Equal(5000, task.GetProperty("token_budget").GetInt32());
        Assert.Equal(["retrieval", "analysis"], task.GetProperty("sub_agents").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(subject, task.GetProperty("submitted_by").GetString());
        Assert.Equal("text/plain", task.GetProperty("input").GetProperty("content_type").GetString());
        Assert.Equal(31, task.GetProperty("input").GetProperty("size").GetInt64());
        Assert.Equal(JsonValueKind.Null, task.GetProperty("input").GetProperty("context_ref_id").ValueKind);

        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct));
        Assert.Equal(TaskStatuses.Queued, stored.Status);
        Assert.Equal("Summarize the quarterly report.", stored.Input);
        Assert.Null(stored.InputRefId);
        Assert.Equal(subject, stored.SubmittedBy);
        Assert.Equal(subject, stored.ChargedUserId);
        Assert.Equal(traceId, stored.TraceId);
        Assert.StartsWith($"00-{traceId}-", stored.TraceParent, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{64}$", stored.RequestHash);
        Assert.Null(stored.IdempotencyKey);
        Assert.Equal(stored.CreatedAt, task.GetProperty("created_at").GetDateTime());

        var events = await platform.WithDatabaseAsync(db => db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).ToListAsync(Ct));
        var submitted = Assert.Single(events);
        Assert.Equal(TaskEventTypes.Submitted, submitted.Type);
        using (var data = JsonDocument.Parse(submitted.Data))
        {
            Assert.Equal(taskId, data.RootElement.GetProperty("task_id").GetGuid());
            Assert.Equal(traceId, data.RootElement.GetProperty("trace_id").GetString());
            Assert.Equal(7, data.RootElement.GetProperty("priority").GetInt32());
        }

        Assert.True(await platform.WithDatabaseAsync(db => db.OutboxMessages.AnyAsync(m => m.Type == "task.submitted.v1" && m.Key == taskId.ToString(), Ct)));
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?targetId={taskId}", Ct);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("action").GetString() == "task.submitted" && r.GetProperty("actorId").GetString() == subject);

        var read = await admin.GetTaskAsync(taskId);
        Assert.Equal("Summarize the quarterly report.", read.GetProperty("input").GetProperty("content").GetString());
        Assert.Empty(read.GetProperty("steps").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, read.GetProperty("started_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("result").ValueKind);
    }

    [Fact]
    public async Task A_json_input_is_kept_as_json_and_the_defaults_apply()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());

        var task = await admin.SubmitTaskAsync(new { input = new { question = "Which regions grew?", regions = new List<string> { "emea", "apac" } } });
        Assert.Equal("application/json", task.GetProperty("input").GetProperty("content_type").GetString());
        Assert.Equal(5, task.GetProperty("priority").GetInt32());
        Assert.Equal(JsonValueKind.Null, task.GetProperty("token_budget").ValueKind);
        Assert.Empty(task.GetProperty("sub_agents").EnumerateArray());

        var content = (await admin.GetTaskAsync(task.TaskId())).GetProperty("input").GetProperty("content");
        Assert.Equal(JsonValueKind.Object, content.ValueKind);
        Assert.Equal("Which regions grew?", content.GetProperty("question").GetString());
        Assert.Equal(["emea", "apac"], content.GetProperty("regions").EnumerateArray().Select(r => r.GetString()));

        var array = await admin.SubmitTaskAsync(new { input = new List<object> { 1, "two" } });
        Assert.Equal(JsonValueKind.Array, (await admin.GetTaskAsync(array.TaskId())).GetProperty("input").GetProperty("content").ValueKind);

        // Text that happens to look like JSON stays the text it was sent as.
        var text = await admin.SubmitTaskAsync(new { input = """{"not": "parsed"}""" });
        Assert.Equal("text/plain", text.GetProperty("input").GetProperty("content_type").GetString());
        Assert.Equal("""{"not": "parsed"}""", (await admin.GetTaskAsync(text.TaskId())).GetProperty("input").GetProperty("content").GetString());
    }

    [Fact]
    public async Task An_input_above_the_threshold_goes_by_claim_check_and_one_at_it_stays_inline()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var large = string.Concat(Enumerable.Range(0, 1024 * 1024 / 16).Select(i => $"line {i:D10}\n"));
        Assert.Equal(1024 * 1024, Encoding.UTF8.GetByteCount(large));

        var task = await admin.SubmitTaskAsync(new { input = large });
        var taskId = task.TaskId();
        var referenceId = task.GetProperty("input").GetProperty("context_ref_id").GetString();
        Assert.NotNull(referenceId);
        Assert.Equal(1024 * 1024, task.GetProperty("input").GetProperty("size").GetInt64());

        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct));
        Assert.Null(stored.Input);
        Assert.Equal(referenceId, stored.InputRefId);
        Assert.Equal(1024 * 1024, stored.InputSize);
        await using (var scope = platform.CreateTenantScope("default"))
        {
            var opened = await scope.ServiceProvider.GetRequiredService<IPayloadStore>().OpenReadAsync(referenceId, Ct);
            Assert.NotNull(opened);
            await using (opened)
            {
                Assert.Equal("text/plain", opened.Reference.ContentType);
                using var text = new StreamReader(opened.Content, Encoding.UTF8);
                Assert.Equal(large, await text.ReadToEndAsync(Ct));
            }
        }

        var read = await admin.GetTaskAsync(taskId);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("input").GetProperty("content").ValueKind);
        Assert.Equal(referenceId, read.GetProperty("input").GetProperty("context_ref_id").GetString());

        var atThreshold = await admin.SubmitTaskAsync(new { input = new string('a', Threshold) });
        Assert.Equal(JsonValueKind.Null, atThreshold.GetProperty("input").GetProperty("context_ref_id").ValueKind);
        var aboveThreshold = await admin.SubmitTaskAsync(new { input = new string('a', Threshold + 1) });
        Assert.NotNull(aboveThreshold.GetProperty("input").GetProperty("context_ref_id").GetString());
    }

    [Fact]
    public async Task A_context_reference_of_the_tenant_is_the_input_and_any_other_is_refused()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var json = """{"document":"contract.pdf","pages":12}"""u8.ToArray();
        var own = await PutPayloadAsync(platform, "default", json, "application/json; charset=utf-8");
        var binary = await PutPayloadAsync(platform, "default", [1, 2, 3], "application/octet-stream");
        var othersTenant = $"refs-{Guid.NewGuid():N}"[..20];
        var foreign = await PutPayloadAsync(platform, othersTenant, json, "application/json");
        var before = await CountTasksAsync(platform);

        var task = await admin.SubmitTaskAsync(new { context_ref_id = own.Id });
        Assert.Equal(own.Id, task.GetProperty("input").GetProperty("context_ref_id").GetString());
        Assert.Equal("application/json", task.GetProperty("input").GetProperty("content_type").GetString());
        Assert.Equal(json.Length, task.GetProperty("input").GetProperty("size").GetInt64());
        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task.TaskId(), Ct));
        Assert.Equal(own.Id, stored.InputRefId);
        Assert.Null(stored.Input);

        foreach (var reference in new[] { "ref_" + new string('0', 32), foreign.Id, binary.Id })
        {
            using var refused = await admin.SubmitAsync(new { context_ref_id = reference });
            await AssertInvalidAsync(refused, "context_ref_id");
        }

        Assert.Equal(before + 1, await CountTasksAsync(platform));
    }

    [Fact]
    public async Task The_same_idempotency_key_and_body_give_the_same_task_and_a_different_body_a_conflict()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var key = $"order-{Guid.NewGuid():N}";
        var body = """{"input": "Draft the welcome email.", "priority": 3}""";

        using var first = await admin.SubmitRawAsync(body, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var taskId = (await first.ReadJsonAsync()).TaskId();

        using (var retry = await admin.SubmitRawAsync(body, key))
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
            var replayed = await retry.ReadJsonAsync();
            Assert.Equal(taskId, replayed.TaskId());
            Assert.Equal("queued", replayed.GetProperty("status").GetString());
        }

        // The body's bytes are what a retry repeats: the same fields written differently are another request.
        foreach (var different in new[] { """{"input": "Draft the farewell email.", "priority": 3}""", """{"priority": 3, "input": "Draft the welcome email."}""" })
        {
            using var conflict = await admin.SubmitRawAsync(different, key);
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
        }

        using (var otherKey = await admin.SubmitRawAsync(body, key + "-2"))
        {
            Assert.Equal(HttpStatusCode.Created, otherKey.StatusCode);
            Assert.NotEqual(taskId, (await otherKey.ReadJsonAsync()).TaskId());
        }

        Assert.Equal(1, await platform.WithDatabaseAsync(db => db.Tasks.CountAsync(t => t.IdempotencyKey == key, Ct)));
        Assert.Equal(1, await platform.WithDatabaseAsync(db => db.TaskEvents.CountAsync(e => e.TaskId == taskId, Ct)));
        Assert.Equal(key, await platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == taskId).Select(t => t.IdempotencyKey).SingleAsync(Ct)));
    }

    [Fact]
    public async Task Concurrent_identical_submissions_create_one_task()
    {
        var platform = await fixture.GetAsync();
        var token = await platform.SignInAsAdminAsync();
        var key = $"burst-{Guid.NewGuid():N}";
        const string body = """{"input": "Only once, please."}""";

        var clients = Enumerable.Range(0, 8).Select(_ => platform.CreateClient(token)).ToList();
        try
        {
            var responses = await Task.WhenAll(clients.Select(client => client.SubmitRawAsync(body, key)));
            var answers = new List<(HttpStatusCode Status, Guid TaskId)>();
            foreach (var response in responses)
            {
                using (response)
                {
                    Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
                    answers.Add((response.StatusCode, (await response.ReadJsonAsync()).TaskId()));
                }
            }

            Assert.Single(answers, a => a.Status == HttpStatusCode.Created);
            Assert.Single(answers.Select(a => a.TaskId).Distinct());
            Assert.Equal(1, await platform.WithDatabaseAsync(db => db.Tasks.CountAsync(t => t.IdempotencyKey == key, Ct)));
            Assert.Equal(1, await platform.WithDatabaseAsync(db => db.TaskEvents.CountAsync(e => e.TaskId == answers[0].TaskId, Ct)));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData("""{}""", "input")]
    [InlineData("""{"input": null}""", "input")]
    [InlineData("""{"input": 42}""", "input")]
    [InlineData("""{"input": true}""", "input")]
    [InlineData("""{"input": "   "}""", "input")]
    [InlineData("""{"input": "a\u0000b"}""", "input")]
    [InlineData("""{"input": "x", "context_ref_id": "ref_00000000000000000000000000000000"}""", "input")]
    [InlineData("""{"context_ref_id": ""}""", "context_ref_id")]
    [InlineData("""{"context_ref_id": 7}""", "context_ref_id")]
    [InlineData("""{"input": "x", "sub_agents": ["Retrieval"]}""", "sub_agents[0]")]
    [InlineData("""{"input": "x", "sub_agents": ["ok", "-leading-dash"]}""", "sub_agents[1]")]
    [InlineData("""{"input": "x", "sub_agents": ["retrieval\n"]}""", "sub_agents[0]")]
    [InlineData("""{"input": "x", "sub_agents": ["a","b","c","d","e","f","g","h","i","j","k"]}""", "sub_agents")]
    [InlineData("""{"input": "x", "sub_agents": ["a", "a"]}""", "sub_agents")]
    [InlineData("""{"input": "x", "sub_agents": "retrieval"}""", "sub_agents")]
    [InlineData("""{"input": "x", "token_budget": 0}""", "token_budget")]
    [InlineData("""{"input": "x", "token_budget": 10000001}""", "token_budget")]
    [InlineData("""{"input": "x", "token_budget": 1.5}""", "token_budget")]
    [InlineData("""{"input": "x", "priority": -1}""", "priority")]
    [InlineData("""{"input": "x", "priority": 10}""", "priority")]
    [InlineData("""{"input": "x", "priority": "high"}""", "priority")]
    [InlineData("""[{"input": "x"}]""", "body")]
    [InlineData("""{"input": "x" """, "body")]
    [InlineData("", "body")]
    public async Task An_invalid_submission_gets_a_field_error_and_writes_nothing(string body, string field)
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = await CountTasksAsync(platform);

        using var response = await admin.SubmitRawAsync(body, idempotencyKey: $"invalid-{Guid.NewGuid():N}");
        await AssertInvalidAsync(response, field);

        Assert.Equal(before, await CountTasksAsync(platform));
    }

    [Fact]
    public async Task A_bad_idempotency_key_or_content_type_is_refused_and_writes_nothing()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var before = await CountTasksAsync(platform);

        using (var tooLong = await admin.SubmitRawAsync("""{"input": "x"}""", idempotencyKey: new string('k', 201)))
        {
            await AssertInvalidAsync(tooLong, "Idempotency-Key");
        }

        foreach (var key in new[] { "", "tab\tinside" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = JsonContent.Create(new { input = "x" }) };
            Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
            using var response = await admin.SendAsync(request, Ct);
            await AssertInvalidAsync(response, "Idempotency-Key");
        }

        using (var text = await admin.SubmitRawAsync("Summarize this.", contentType: "text/plain"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
            Assert.Equal("application/problem+json", text.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(before, await CountTasksAsync(platform));
    }

    [Fact]
    public async Task Reading_needs_tasks_read_writing_needs_tasks_write_and_a_caller()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Permission probe." })).TaskId();
        using var viewer = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("task-viewer", Roles.Viewer), AuthServer.Password));
        using var operatorClient = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("task-operator", Roles.Operator), AuthServer.Password));
        using var anonymous = platform.CreateClient(accessToken: null);
        var before = await CountTasksAsync(platform);

        using (var forbidden = await viewer.SubmitAsync(new { input = "Viewers only read." }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using (var forbidden = await viewer.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        Assert.Equal(taskId, (await viewer.GetTaskAsync(taskId)).TaskId());
        Assert.True((await viewer.GetFromJsonAsync<JsonElement>("/api/tasks", Ct)).GetProperty("totalCount").GetInt32() >= 1);

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/api/tasks"), (HttpMethod.Get, "/api/tasks"), (HttpMethod.Get, $"/api/tasks/{taskId}"), (HttpMethod.Post, $"/api/tasks/{taskId}/cancel"), (HttpMethod.Get, $"/api/tasks/{taskId}/events") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? JsonContent.Create(new { input = "x" }) : null };
            using var response = await anonymous.SendAsync(request, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)response.StatusCode}");
        }

        Assert.Equal(before, await CountTasksAsync(platform));
        using var allowed = await operatorClient.SubmitAsync(new { input = "Operators run tasks." });
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
    }

    [Fact]
    public async Task A_task_submitted_with_an_api_key_is_charged_to_the_keys_owner()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var owner = await admin.SubjectAsync();
        var apiKey = await (await admin.PostAsJsonAsync("/api/api-keys", new { name = "tasks", roles = new[] { Roles.Developer }, expiresAt = DateTimeOffset.UtcNow.AddDays(1) }, Ct)).ReadJsonAsync();
        using var keyClient = platform.CreateClient(apiKey.GetProperty("key").GetString());

        var task = await keyClient.SubmitTaskAsync(new { input = "Submitted by a key." });

        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == task.TaskId(), Ct));
        Assert.Equal(owner, stored.ChargedUserId);
        Assert.NotEqual(owner, stored.SubmittedBy);
        Assert.Equal(await keyClient.SubjectAsync(), stored.SubmittedBy);
    }

    [Fact]
    public async Task Another_tenant_gets_404_for_this_tenants_tasks_and_lists_only_its_own()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Tenant A's secret plan." })).TaskId();
        using var other = platform.CreateClient(await platform.CreateTenantAdminAsync(admin));

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/api/tasks/{taskId}"), (HttpMethod.Post, $"/api/tasks/{taskId}/cancel"), (HttpMethod.Get, $"/api/tasks/{taskId}/events") })
        {
            using var response = await other.SendAsync(new HttpRequestMessage(method, path), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>("/api/tasks", Ct)).GetProperty("totalCount").GetInt32());
        var ownId = (await other.SubmitTaskAsync(new { input = "Tenant B's task." })).TaskId();
        var otherList = await other.GetFromJsonAsync<JsonElement>("/api/tasks", Ct);
        Assert.Equal([ownId], otherList.GetProperty("items").EnumerateArray().Select(t => t.TaskId()));
        var defaultList = await admin.GetFromJsonAsync<JsonElement>($"/api/tasks?pageSize={200}", Ct);
        Assert.DoesNotContain(defaultList.GetProperty("items").EnumerateArray(), t => t.TaskId() == ownId);

        // Nothing the other tenant tried changed the task.
        Assert.Equal("queued", (await admin.GetTaskAsync(taskId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_list_filters_by_status_creation_time_and_submitter_and_pages_newest_first()
    {
        var platform = await fixture.GetAsync();
        using var submitter = platform.CreateClient(await platform.SignInAsync(await platform.CreateUserAsync("lister", Roles.Operator), AuthServer.Password));
        var subject = await submitter.SubjectAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await submitter.SubmitTaskAsync(new { input = $"Task {i}" })).TaskId());
        }

        await platform.SetStatusAsync(ids[1], TaskStatuses.Running);
        await platform.SetStatusAsync(ids[2], TaskStatuses.Completed);
        var created = new List<DateTime>();
        foreach (var id in ids)
        {
            created.Add((await submitter.GetTaskAsync(id)).GetProperty("created_at").GetDateTime());
        }

        var mine = $"submitted_by={Uri.EscapeDataString(subject)}";
        Assert.Equal([ids[2], ids[1], ids[0]], await ListAsync(submitter, mine));
        Assert.Equal([ids[0]], await ListAsync(submitter, $"{mine}&status=queued"));
        Assert.Equal([ids[2], ids[0]], await ListAsync(submitter, $"{mine}&status=queued,completed"));
        Assert.Equal([ids[1], ids[0]], await ListAsync(submitter, $"{mine}&status=queued&status=running"));
        Assert.Equal([ids[2], ids[1]], await ListAsync(submitter, $"{mine}&created_after={Iso(created[1])}"));
        Assert.Equal([ids[0]], await ListAsync(submitter, $"{mine}&created_before={Iso(created[1])}"));
        Assert.Equal([ids[1]], await ListAsync(submitter, $"{mine}&created_after={Iso(created[1])}&created_before={Iso(created[2])}"));

        var firstPage = await submitter.GetFromJsonAsync<JsonElement>($"/api/tasks?{mine}&page=1&pageSize=2", Ct);
        Assert.Equal(3, firstPage.GetProperty("totalCount").GetInt32());
        Assert.Equal(1, firstPage.GetProperty("page").GetInt32());
        Assert.Equal(2, firstPage.GetProperty("pageSize").GetInt32());
        Assert.Equal([ids[2], ids[1]], firstPage.GetProperty("items").EnumerateArray().Select(t => t.TaskId()));
        var secondPage = await submitter.GetFromJsonAsync<JsonElement>($"/api/tasks?{mine}&page=2&pageSize=2", Ct);
        Assert.Equal([ids[0]], secondPage.GetProperty("items").EnumerateArray().Select(t => t.TaskId()));

        foreach (var invalid in new[]
        {
            "status=paused", $"created_after={Iso(created[2])}&created_before={Iso(created[0])}", "pageSize=100000", "page=0", "created_after=yesterday",
            $"submitted_by={new string('x', 201)}", "submitted_by=a%00b",
        })
        {
            using var response = await submitter.GetAsync(new Uri($"/api/tasks?{invalid}", UriKind.Relative), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{invalid}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Cancelling_a_queued_task_ends_it_at_once_and_an_ended_task_cannot_be_cancelled()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Cancel me before I start." })).TaskId();

        using (var cancelled = await admin.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
            Assert.Equal($"/api/tasks/{taskId}", cancelled.Headers.Location?.OriginalString);
            var task = await cancelled.ReadJsonAsync();
            Assert.Equal("cancelled", task.GetProperty("status").GetString());
            Assert.Equal(task.GetProperty("completed_at").GetDateTime(), task.GetProperty("cancel_requested_at").GetDateTime());
        }

        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct));
        Assert.Equal(TaskStatuses.Cancelled, stored.Status);
        Assert.NotNull(stored.CompletedAt);
        Assert.NotNull(stored.CancelRequestedAt);
        Assert.Equal(
            [TaskEventTypes.Submitted, TaskEventTypes.Cancelled],
            await platform.WithDatabaseAsync(db => db.TaskEvents.Where(e => e.TaskId == taskId).OrderBy(e => e.Id).Select(e => e.Type).ToListAsync(Ct)));

        using (var again = await admin.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        }

        var completedId = (await admin.SubmitTaskAsync(new { input = "Already done." })).TaskId();
        await platform.SetStatusAsync(completedId, TaskStatuses.Completed);
        using (var ended = await admin.CancelAsync(completedId))
        {
            Assert.Equal(HttpStatusCode.Conflict, ended.StatusCode);
        }

        Assert.Equal(TaskStatuses.Completed, await platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == completedId).Select(t => t.Status).SingleAsync(Ct)));
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?targetId={taskId}", Ct);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("action").GetString() == "task.cancelled");
    }

    [Fact]
    public async Task Cancelling_a_running_task_requests_it_once_and_leaves_the_rest_to_its_runner()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Cancel me while I run." })).TaskId();
        await platform.SetStatusAsync(taskId, TaskStatuses.Running);

        DateTime requestedAt;
        using (var requested = await admin.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
            var task = await requested.ReadJsonAsync();
            Assert.Equal("running", task.GetProperty("status").GetString());
            requestedAt = task.GetProperty("cancel_requested_at").GetDateTime();
            Assert.Equal(JsonValueKind.Null, task.GetProperty("completed_at").ValueKind);
        }

        using (var again = await admin.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            Assert.Equal(requestedAt, (await again.ReadJsonAsync()).GetProperty("cancel_requested_at").GetDateTime());
        }

        var stored = await platform.WithDatabaseAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct));
        Assert.Equal(TaskStatuses.Running, stored.Status);
        Assert.Equal(requestedAt, stored.CancelRequestedAt);
        Assert.Null(stored.CompletedAt);
        Assert.Equal(
            [TaskEventTypes.Submitted, TaskEventTypes.CancelRequested],
            await platform.WithDatabaseAsync(db => db.TaskEvents.Where(e => e.TaskId == taskId).OrderBy(e => e.Id).Select(e => e.Type).ToListAsync(Ct)));
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/audit?targetId={taskId}", Ct);
        Assert.Single(audit.GetProperty("items").EnumerateArray(), r => r.GetProperty("action").GetString() == "task.cancel-requested");
    }

    [Fact]
    public async Task Unknown_and_malformed_task_ids_are_404_and_400()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());

        foreach (var (method, path, status) in new[]
        {
            (HttpMethod.Get, $"/api/tasks/{Guid.NewGuid()}", HttpStatusCode.NotFound),
            (HttpMethod.Post, $"/api/tasks/{Guid.NewGuid()}/cancel", HttpStatusCode.NotFound),
            (HttpMethod.Get, $"/api/tasks/{Guid.NewGuid()}/events", HttpStatusCode.NotFound),
            (HttpMethod.Get, "/api/tasks/not-a-task", HttpStatusCode.BadRequest),
            (HttpMethod.Post, "/api/tasks/not-a-task/cancel", HttpStatusCode.BadRequest),
            (HttpMethod.Get, "/api/tasks/not-a-task/events", HttpStatusCode.BadRequest),
        })
        {
            using var response = await admin.SendAsync(new HttpRequestMessage(method, path), Ct);
            Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task A_task_shows_its_journal_and_usage_while_it_runs_and_its_result_judge_and_totals_when_it_ends()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Compare the two offers." })).TaskId();
        await platform.SetStatusAsync(taskId, TaskStatuses.Running);
        var start = DateTime.UtcNow.AddMinutes(-1);
        start = new DateTime(start.Ticks - (start.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        await platform.WithDatabaseAsync(async db =>
        {
            db.TaskSteps.AddRange(
                Step(taskId, "plan", "plan", start, 1_500, input: 120, output: 80, cost: 900),
                Step(taskId, "sub-agent/0", "run-sub-agent", start.AddSeconds(2), 4_000, input: 300, output: 200, cost: 2_100, subAgent: "retrieval@1.0.0"),
                Step(taskId, "sub-agent/1", "run-sub-agent", start.AddSeconds(2), 250, status: "failed", error: "The tool timed out.", attempts: 2, subAgent: "tool-execution@1.0.0"));
            return await db.SaveChangesAsync(Ct);
        });

        var running = await admin.GetTaskAsync(taskId);
        var steps = running.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["plan", "sub-agent/0", "sub-agent/1"], steps.Select(s => s.GetProperty("key").GetString()));
        Assert.Equal("run-sub-agent", steps[1].GetProperty("activity").GetString());
        Assert.Equal("retrieval@1.0.0", steps[1].GetProperty("sub_agent_id").GetString());
        Assert.Equal(4_000, steps[1].GetProperty("duration_ms").GetInt64());
        Assert.Equal(300, steps[1].GetProperty("input_tokens").GetInt64());
        Assert.Equal(200, steps[1].GetProperty("output_tokens").GetInt64());
        Assert.Equal(2_100, steps[1].GetProperty("cost_micros").GetInt64());
        Assert.Equal(start.AddSeconds(2), steps[1].GetProperty("started_at").GetDateTime());
        Assert.Equal("failed", steps[2].GetProperty("status").GetString());
        Assert.Equal(2, steps[2].GetProperty("attempts").GetInt32());
        Assert.Equal("The tool timed out.", steps[2].GetProperty("error").GetString());
        var usage = running.GetProperty("usage");
        Assert.Equal(420, usage.GetProperty("input_tokens").GetInt64());
        Assert.Equal(280, usage.GetProperty("output_tokens").GetInt64());
        Assert.Equal(700, usage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(3_000, usage.GetProperty("cost_micros").GetInt64());
        Assert.Equal(JsonValueKind.Null, running.GetProperty("duration_ms").ValueKind);

        // The runner ends it: its recorded totals (here also counting calls outside the journal) win over the sum.
        var completedAt = start.AddSeconds(10);
        await platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(set => set
            .SetProperty(t => t.Status, TaskStatuses.Completed)
            .SetProperty(t => t.StartedAt, start)
            .SetProperty(t => t.CompletedAt, completedAt)
            .SetProperty(t => t.Result, """{"answer": "Offer B", "sources": ["offers.pdf"]}""")
            .SetProperty(t => t.ResultSize, 47L)
            .SetProperty(t => t.JudgeScore, 0.92)
            .SetProperty(t => t.JudgePassed, true)
            .SetProperty(t => t.InputTokens, 500L)
            .SetProperty(t => t.OutputTokens, 300L)
            .SetProperty(t => t.CostMicros, 3_500L), Ct));

        var completed = await admin.GetTaskAsync(taskId);
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(10_000, completed.GetProperty("duration_ms").GetInt64());
        Assert.Equal("Offer B", completed.GetProperty("result").GetProperty("answer").GetString());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("result_ref_id").ValueKind);
        Assert.Equal(0.92, completed.GetProperty("judge").GetProperty("score").GetDouble());
        Assert.True(completed.GetProperty("judge").GetProperty("passed").GetBoolean());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("error").ValueKind);
        Assert.Equal(800, completed.GetProperty("usage").GetProperty("total_tokens").GetInt64());
        Assert.Equal(3_500, completed.GetProperty("usage").GetProperty("cost_micros").GetInt64());

        await platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(set => set
            .SetProperty(t => t.Status, TaskStatuses.Failed)
            .SetProperty(t => t.Result, (string?)null)
            .SetProperty(t => t.ResultRefId, "ref_" + new string('a', 32))
            .SetProperty(t => t.ErrorCode, TaskErrorCodes.SubAgentsFailed)
            .SetProperty(t => t.ErrorMessage, "Every sub-agent failed."), Ct));
        var failed = await admin.GetTaskAsync(taskId);
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("result").ValueKind);
        Assert.Equal("ref_" + new string('a', 32), failed.GetProperty("result_ref_id").GetString());
        Assert.Equal(TaskErrorCodes.SubAgentsFailed, failed.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("Every sub-agent failed.", failed.GetProperty("error").GetProperty("message").GetString());

        await platform.WithDatabaseAsync(db => db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(set => set
            .SetProperty(t => t.Result, "Plain answer: {not json")
            .SetProperty(t => t.ResultRefId, (string?)null), Ct));
        Assert.Equal("Plain answer: {not json", (await admin.GetTaskAsync(taskId)).GetProperty("result").GetString());
    }

    [Fact]
    public async Task The_tasks_api_is_in_the_openapi_document()
    {
        var platform = await fixture.GetAsync();
        var document = await platform.Gateway.GetFromJsonAsync<JsonElement>("/openapi/controlplane.json", Ct);
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/cancel", "/api/tasks/{id}/events" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document.");
        }

        Assert.True(paths.GetProperty("/api/tasks").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.GetProperty("/api/tasks/{id}/events").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/event-stream", out _));
    }

    private static TaskStep Step(
        Guid taskId, string key, string activity, DateTime startedAt, int milliseconds, long input = 0, long output = 0, long cost = 0,
        string status = "succeeded", string? error = null, int attempts = 1, string? subAgent = null) => new()
        {
            TaskId = taskId,
            TenantId = "default",
            Key = key,
            Activity = activity,
            Status = status,
            Error = error,
            Attempts = attempts,
            SubAgentId = subAgent,
            StartedAt = startedAt,
            CompletedAt = startedAt.AddMilliseconds(milliseconds),
            InputTokens = input,
            OutputTokens = output,
            CostMicros = cost,
        };

    private static async Task<List<Guid>> ListAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(new Uri($"/api/tasks?{query}", UriKind.Relative), Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        return [.. (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray().Select(t => t.TaskId())];
    }

    private static string Iso(DateTime value) => Uri.EscapeDataString(value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"No error for {field}: {errors}");
    }

    private static Task<int> CountTasksAsync(RunningPlatform platform) => platform.WithDatabaseAsync(db => db.Tasks.CountAsync(Ct));

    private static async Task<PayloadReference> PutPayloadAsync(RunningPlatform platform, string tenantId, byte[] content, string contentType)
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        using var stream = new MemoryStream(content);
        return await scope.ServiceProvider.GetRequiredService<IPayloadStore>().PutAsync(stream, contentType, cancellationToken: Ct);
    }
}

public sealed class SqliteTasksApiTests(SqliteTasksFixture fixture) : TasksApiContract<SqliteTasksFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresTasksApiTests(PostgresTasksFixture fixture) : TasksApiContract<PostgresTasksFixture>(fixture);
