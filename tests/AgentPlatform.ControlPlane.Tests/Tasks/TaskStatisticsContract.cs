using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tasks;
using AgentPlatform.ControlPlane.Tests.Identity;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.Tasks;

/// <summary>
/// <c>GET /api/tasks/stats</c> (issue 6's dashboard) through the gateway, against SQLite and PostgreSQL alike. Each
/// test seeds its own tenant's tasks and journaled sub-agent runs directly in the database, with known times,
/// durations, tokens and costs, and checks the exact figures.
/// </summary>
public abstract class TaskStatisticsContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_window_has_exact_totals_day_buckets_with_the_empty_ones_and_the_top_failing_sub_agents_of_its_tenant_only()
    {
        var platform = await fixture.GetAsync();
        var (tenant, client) = await NewTenantAsync(platform);
        var (otherTenant, otherClient) = await NewTenantAsync(platform);

        var t1 = Ended(tenant, TaskStatuses.Completed, At(3, 1, 1), 1_000, input: 100, output: 50, cost: 1_000);
        var t2 = Ended(tenant, TaskStatuses.Completed, At(3, 1, 2), 2_000, input: 200, output: 100, cost: 2_000);
        var t3 = Ended(tenant, TaskStatuses.Failed, At(3, 1, 3), 3_000, input: 300, cost: 500);
        var t4 = CancelledWhileQueued(tenant, At(3, 1, 4));
        var t5 = Running(tenant, At(3, 1, 5), input: 10, output: 5, cost: 20);
        var t6 = Ended(tenant, TaskStatuses.Completed, At(3, 3, 10), 4_000, input: 400, output: 200, cost: 3_000);
        var t7 = Ended(tenant, TaskStatuses.Completed, At(3, 3, 11), 10_000);
        var t8 = Ended(tenant, TaskStatuses.Failed, At(3, 3, 12), 5_000, input: 1, output: 1, cost: 1);
        var t9 = Queued(tenant, At(3, 3, 23).AddMinutes(59).AddSeconds(59));
        // Just outside [from, to): created a tick before it and exactly at its end.
        var before = Ended(tenant, TaskStatuses.Failed, At(3, 1, 0).AddTicks(-10), 50, input: 999_999, cost: 999_999);
        var atEnd = Ended(tenant, TaskStatuses.Completed, At(3, 4, 0), 70, input: 999_999, cost: 999_999);
        List<AgentTask> tasks = [t1, t2, t3, t4, t5, t6, t7, t8, t9, before, atEnd];

        var inWindow = new[] { t1, t2, t3, t6, t7, t8 };
        var runs = new List<(string SubAgent, bool Failed)>();
        runs.AddRange(Runs("retrieval", total: 4, failed: 3));
        runs.AddRange(Runs("analysis", total: 5, failed: 3));
        runs.AddRange(Runs("a1", total: 1, failed: 1));
        runs.AddRange(Runs("a2", total: 1, failed: 1));
        runs.AddRange(Runs("a3", total: 1, failed: 1));
        runs.AddRange(Runs("tool-execution", total: 2, failed: 1));
        runs.AddRange(Runs("writer", total: 3, failed: 0));
        var steps = runs.Select((run, i) => SubAgentRun(inWindow[i % inWindow.Length], i, run.SubAgent, run.Failed)).ToList();
        steps.AddRange(Enumerable.Range(0, 5).Select(i => SubAgentRun(before, i, "outside", failed: true)));
        // A Main Agent step that failed is no sub-agent run.
        steps.Add(new TaskStep
        {
            TaskId = t3.Id, TenantId = tenant, Key = "plan", Activity = TaskActivities.Plan.Name, Status = "failed",
            StartedAt = t3.CreatedAt, CompletedAt = t3.CreatedAt.AddSeconds(1),
        });
        await SeedAsync(platform, tenant, tasks, steps);

        // Another tenant, busy in the same window with a sub-agent that fails every time.
        var b1 = Ended(otherTenant, TaskStatuses.Completed, At(3, 1, 6), 7_000, input: 5_000, cost: 5_000);
        var b2 = Ended(otherTenant, TaskStatuses.Failed, At(3, 2, 6), 9_000, input: 5_000, cost: 5_000);
        await SeedAsync(platform, otherTenant, [b1, b2], [.. Enumerable.Range(0, 10).Select(i => SubAgentRun(i % 2 == 0 ? b1 : b2, i, "tenant-b-agent", failed: true))]);

        var stats = await GetStatisticsAsync(client, "from=2026-03-01T00:00:00Z&to=2026-03-04T00:00:00Z&bucket=day");

        Assert.Equal(At(3, 1, 0), stats.GetProperty("from").GetDateTime());
        Assert.Equal(At(3, 4, 0), stats.GetProperty("to").GetDateTime());
        Assert.Equal("day", stats.GetProperty("bucket").GetString());
        AssertFigures(stats.GetProperty("totals"), new(Submitted: 9, Queued: 1, Running: 1, Completed: 4, Failed: 2, Cancelled: 1, SuccessRate: 4.0 / 7,
            P50: 3_000, P95: 10_000, InputTokens: 1_011, OutputTokens: 356, CostMicros: 6_521));

        var buckets = stats.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal([At(3, 1, 0), At(3, 2, 0), At(3, 3, 0)], buckets.Select(b => b.GetProperty("start").GetDateTime()));
        AssertFigures(buckets[0], new(Submitted: 5, Queued: 0, Running: 1, Completed: 2, Failed: 1, Cancelled: 1, SuccessRate: 0.5,
            P50: 2_000, P95: 3_000, InputTokens: 610, OutputTokens: 155, CostMicros: 3_520));
        AssertFigures(buckets[1], new(Submitted: 0, Queued: 0, Running: 0, Completed: 0, Failed: 0, Cancelled: 0, SuccessRate: null,
            P50: null, P95: null, InputTokens: 0, OutputTokens: 0, CostMicros: 0));
        AssertFigures(buckets[2], new(Submitted: 4, Queued: 1, Running: 0, Completed: 2, Failed: 1, Cancelled: 0, SuccessRate: 2.0 / 3,
            P50: 5_000, P95: 10_000, InputTokens: 401, OutputTokens: 201, CostMicros: 3_001));

        // Most failures first; on a tie the higher failure rate (fewer runs), then the id. A sub-agent that never
        // failed is not listed, and only five are.
        Assert.Equal(
            [("retrieval", 4L, 3L, 0.75), ("analysis", 5L, 3L, 0.6), ("a1", 1L, 1L, 1.0), ("a2", 1L, 1L, 1.0), ("a3", 1L, 1L, 1.0)],
            SubAgents(stats));

        // The other tenant sees its own tasks and nothing of this one's.
        var other = await GetStatisticsAsync(otherClient, "from=2026-03-01T00:00:00Z&to=2026-03-04T00:00:00Z");
        AssertFigures(other.GetProperty("totals"), new(Submitted: 2, Queued: 0, Running: 0, Completed: 1, Failed: 1, Cancelled: 0, SuccessRate: 0.5,
            P50: 7_000, P95: 9_000, InputTokens: 10_000, OutputTokens: 0, CostMicros: 10_000));
        Assert.Equal([1L, 1L, 0L], other.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("submitted").GetInt64()));
        Assert.Equal([("tenant-b-agent", 10L, 10L, 1.0)], SubAgents(other));
    }

    [Fact]
    public async Task Hour_buckets_are_aligned_to_the_hour_and_count_only_what_was_created_inside_the_window()
    {
        var platform = await fixture.GetAsync();
        var (tenant, client) = await NewTenantAsync(platform);
        var ten = At(4, 1, 10);
        var eleven = At(4, 1, 11);
        List<AgentTask> tasks =
        [
            Ended(tenant, TaskStatuses.Completed, ten.AddMinutes(15), 99_999),
            Ended(tenant, TaskStatuses.Failed, ten.AddMinutes(45), 500),
            Running(tenant, At(4, 1, 13).AddMinutes(10)),
            Queued(tenant, At(4, 1, 13).AddMinutes(15)),
        ];
        // Twenty durations of 100 … 2000 ms, stored out of order.
        tasks.AddRange(Enumerable.Range(1, 20).OrderBy(n => n * 7 % 20).Select(n => Ended(tenant, TaskStatuses.Completed, eleven.AddMinutes(n), n * 100)));
        await SeedAsync(platform, tenant, tasks, []);

        var stats = await GetStatisticsAsync(client, "from=2026-04-01T10:30:00Z&to=2026-04-01T13:15:00Z&bucket=hour");

        Assert.Equal(ten.AddMinutes(30), stats.GetProperty("from").GetDateTime());
        Assert.Equal("hour", stats.GetProperty("bucket").GetString());
        var buckets = stats.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal([ten, eleven, At(4, 1, 12), At(4, 1, 13)], buckets.Select(b => b.GetProperty("start").GetDateTime()));
        AssertFigures(buckets[0], new(Submitted: 1, Queued: 0, Running: 0, Completed: 0, Failed: 1, Cancelled: 0, SuccessRate: 0,
            P50: 500, P95: 500, InputTokens: 0, OutputTokens: 0, CostMicros: 0));
        AssertFigures(buckets[1], new(Submitted: 20, Queued: 0, Running: 0, Completed: 20, Failed: 0, Cancelled: 0, SuccessRate: 1,
            P50: 1_000, P95: 1_900, InputTokens: 0, OutputTokens: 0, CostMicros: 0));
        Assert.Equal(0, buckets[2].GetProperty("submitted").GetInt64());
        AssertFigures(buckets[3], new(Submitted: 1, Queued: 0, Running: 1, Completed: 0, Failed: 0, Cancelled: 0, SuccessRate: null,
            P50: null, P95: null, InputTokens: 0, OutputTokens: 0, CostMicros: 0));
        // Nearest rank over 500 and 100 … 2000: the 11th and the 20th of 21.
        AssertFigures(stats.GetProperty("totals"), new(Submitted: 22, Queued: 0, Running: 1, Completed: 20, Failed: 1, Cancelled: 0, SuccessRate: 20.0 / 21,
            P50: 1_000, P95: 1_900, InputTokens: 0, OutputTokens: 0, CostMicros: 0));
        Assert.Empty(stats.GetProperty("top_failing_sub_agents").EnumerateArray());

        // An offset is honoured: 12:30+02:00 is 10:30 UTC.
        var offset = await GetStatisticsAsync(client, $"from={Uri.EscapeDataString("2026-04-01T12:30:00+02:00")}&to=2026-04-01T11:00:00Z&bucket=hour");
        Assert.Equal(ten.AddMinutes(30), offset.GetProperty("from").GetDateTime());
        Assert.Equal(1, offset.GetProperty("totals").GetProperty("failed").GetInt64());
        Assert.Equal(1, offset.GetProperty("totals").GetProperty("submitted").GetInt64());
    }

    [Fact]
    public async Task By_default_the_window_is_the_last_seven_days_of_whole_buckets_up_to_now()
    {
        var platform = await fixture.GetAsync();
        var (tenant, client) = await NewTenantAsync(platform);
        var now = DateTime.UtcNow;
        await SeedAsync(platform, tenant,
            [
                Ended(tenant, TaskStatuses.Completed, now.AddHours(-1), 1_234),
                Ended(tenant, TaskStatuses.Completed, now.AddDays(-8), 99),
            ],
            []);

        foreach (var (query, bucket, size, count) in new[] { ("", "day", TimeSpan.FromDays(1), 7), ("bucket=hour", "hour", TimeSpan.FromHours(1), 168) })
        {
            var requestedAt = DateTime.UtcNow;
            var stats = await GetStatisticsAsync(client, query);
            var to = stats.GetProperty("to").GetDateTime();
            Assert.InRange(to, requestedAt.AddSeconds(-5), DateTime.UtcNow.AddSeconds(5));
            Assert.Equal(bucket, stats.GetProperty("bucket").GetString());
            var from = stats.GetProperty("from").GetDateTime();
            var currentBucket = new DateTime(to.Ticks - (to.Ticks % size.Ticks), DateTimeKind.Utc);
            Assert.Equal(currentBucket + size - TimeSpan.FromDays(7), from);
            Assert.Equal(
                Enumerable.Range(0, count).Select(i => from + (size * i)),
                stats.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("start").GetDateTime()));
            Assert.Equal(1, stats.GetProperty("totals").GetProperty("submitted").GetInt64());
            Assert.Equal(1_234, stats.GetProperty("totals").GetProperty("p50_duration_ms").GetInt64());
        }

        // With only 'to', the seven days end at its bucket.
        var until = await GetStatisticsAsync(client, "to=2026-03-04T00:00:00Z");
        Assert.Equal(At(2, 25, 0), until.GetProperty("from").GetDateTime());
        Assert.Equal(7, until.GetProperty("buckets").GetArrayLength());
    }

    [Fact]
    public async Task A_window_that_is_inverted_too_long_has_too_many_buckets_or_bad_values_is_a_problem()
    {
        var platform = await fixture.GetAsync();
        var (_, client) = await NewTenantAsync(platform);

        foreach (var (query, field) in new[]
        {
            ("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
            ("from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to"),
            ("from=2026-01-01T00:00:00Z&to=2026-04-03T00:00:01Z", "from"),
            ("from=2026-03-01T00:00:00Z&to=2026-04-11T17:00:00Z&bucket=hour", "bucket"),
            ("bucket=week", "bucket"),
            ("bucket=DAY", "bucket"),
            ("from=1969-12-31T00:00:00Z&to=1970-01-02T00:00:00Z", "from"),
            ("to=9999-06-01T00:00:00Z", "to"),
            ("from=2099-01-01T00:00:00Z", "to"),
        })
        {
            using var response = await client.GetAsync(new Uri($"/api/tasks/stats?{query}", UriKind.Relative), Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"{query}: no error for {field}: {errors}");
        }

        foreach (var query in new[] { "from=yesterday", "to=2026-13-01", "from=" + new string('9', 40) })
        {
            using var response = await client.GetAsync(new Uri($"/api/tasks/stats?{query}", UriKind.Relative), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        // The limits themselves are fine: 92 days of days, 1000 hours.
        Assert.Equal(92, (await GetStatisticsAsync(client, "from=2026-01-01T00:00:00Z&to=2026-04-03T00:00:00Z")).GetProperty("buckets").GetArrayLength());
        Assert.Equal(1000, (await GetStatisticsAsync(client, "from=2026-03-01T00:00:00Z&to=2026-04-11T16:00:00Z&bucket=hour")).GetProperty("buckets").GetArrayLength());
    }

    [Fact]
    public async Task Reading_statistics_needs_tasks_read_and_a_caller()
    {
        var platform = await fixture.GetAsync();
        var (tenant, admin) = await NewTenantAsync(platform);
        await SeedAsync(platform, tenant, [Ended(tenant, TaskStatuses.Completed, At(3, 1, 1), 10)], []);
        var viewerName = AuthServer.Unique("stats-viewer");
        using (var created = await admin.PostAsJsonAsync("/api/users", new { userName = viewerName, displayName = "Viewer", password = AuthServer.Password, roles = new[] { Roles.Viewer } }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var viewer = platform.CreateClient(await platform.SignInAsync(viewerName, AuthServer.Password));
        Assert.Equal(1, (await GetStatisticsAsync(viewer, "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z")).GetProperty("totals").GetProperty("submitted").GetInt64());

        // A platform service token (the Worker's, for this tenant) may call models and nothing else.
        using var service = platform.CreateClient(await ServiceTokenAsync(platform, tenant));
        using (var forbidden = await service.GetAsync(new Uri("/api/tasks/stats", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using var anonymous = platform.CreateClient(accessToken: null);
        using (var unauthorized = await anonymous.GetAsync(new Uri("/api/tasks/stats", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }
    }

    [Fact]
    public async Task A_window_with_more_ended_tasks_than_the_bound_is_refused_before_their_durations_are_read()
    {
        var platform = await fixture.GetAsync();
        var (tenant, _) = await NewTenantAsync(platform);
        await SeedAsync(platform, tenant,
            [
                Ended(tenant, TaskStatuses.Completed, At(3, 1, 1), 10),
                Ended(tenant, TaskStatuses.Failed, At(3, 1, 2), 20),
                CancelledWhileQueued(tenant, At(3, 1, 3)),
                Queued(tenant, At(3, 1, 4)),
                Running(tenant, At(3, 1, 5)),
            ],
            []);
        var query = new TaskStatisticsQuery { From = At(3, 1, 0), To = At(3, 2, 0) };
        Assert.True(TaskStatisticsWindow.TryResolve(query, DateTime.UtcNow, out var window, out _, out _));

        await using var scope = platform.CreateTenantScope(tenant);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        Assert.Null(await TaskStatistics.ComputeAsync(db, window, maxEndedTasks: 2, Ct));
        var statistics = await TaskStatistics.ComputeAsync(db, window, maxEndedTasks: 3, Ct);
        Assert.NotNull(statistics);
        Assert.Equal(5, statistics.Totals.Submitted);
        Assert.Equal((10L, 20L), (statistics.Totals.P50DurationMs, statistics.Totals.P95DurationMs));
        Assert.Equal(200_000, TaskStatistics.MaxEndedTasks);
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        Assert.Null(TaskStatistics.Percentile([], 50));
        Assert.Equal(7, TaskStatistics.Percentile([7], 50));
        Assert.Equal(7, TaskStatistics.Percentile([7], 95));
        Assert.Equal(1, TaskStatistics.Percentile([1, 2], 50));
        Assert.Equal(2, TaskStatistics.Percentile([1, 2], 95));
        long[] hundred = [.. Enumerable.Range(1, 100).Select(i => (long)i)];
        Assert.Equal(50, TaskStatistics.Percentile(hundred, 50));
        Assert.Equal(95, TaskStatistics.Percentile(hundred, 95));
        Assert.Equal(100, TaskStatistics.Percentile(hundred, 100));
    }

    private sealed record Expected(
        long Submitted, long Queued, long Running, long Completed, long Failed, long Cancelled, double? SuccessRate,
        long? P50, long? P95, long InputTokens, long OutputTokens, long CostMicros);

    private static void AssertFigures(JsonElement figures, Expected expected)
    {
        var actual = new Expected(
            figures.GetProperty("submitted").GetInt64(),
            figures.GetProperty("queued").GetInt64(),
            figures.GetProperty("running").GetInt64(),
            figures.GetProperty("completed").GetInt64(),
            figures.GetProperty("failed").GetInt64(),
            figures.GetProperty("cancelled").GetInt64(),
            NullOr(figures.GetProperty("success_rate"), e => e.GetDouble()),
            NullOr(figures.GetProperty("p50_duration_ms"), e => e.GetInt64()),
            NullOr(figures.GetProperty("p95_duration_ms"), e => e.GetInt64()),
            figures.GetProperty("usage").GetProperty("input_tokens").GetInt64(),
            figures.GetProperty("usage").GetProperty("output_tokens").GetInt64(),
            figures.GetProperty("usage").GetProperty("cost_micros").GetInt64());
        Assert.Equal(expected, actual);
        Assert.Equal(expected.InputTokens + expected.OutputTokens, figures.GetProperty("usage").GetProperty("total_tokens").GetInt64());
    }

    private static T? NullOr<T>(JsonElement element, Func<JsonElement, T> read) where T : struct =>
        element.ValueKind == JsonValueKind.Null ? null : read(element);

    private static List<(string, long, long, double)> SubAgents(JsonElement stats) =>
    [
        .. stats.GetProperty("top_failing_sub_agents").EnumerateArray().Select(s => (
            s.GetProperty("sub_agent_id").GetString()!,
            s.GetProperty("runs").GetInt64(),
            s.GetProperty("failures").GetInt64(),
            s.GetProperty("failure_rate").GetDouble())),
    ];

    private static async Task<JsonElement> GetStatisticsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(new Uri($"/api/tasks/stats?{query}", UriKind.Relative), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A tenant of its own (so the figures are exactly what the test seeded) and a client of its admin.</summary>
    private static async Task<(string TenantId, HttpClient Admin)> NewTenantAsync(RunningPlatform platform)
    {
        var tenantId = AuthServer.Unique("stats");
        var adminName = AuthServer.Unique("stats-admin");
        using var platformAdmin = platform.CreateClient(await platform.SignInAsAdminAsync());
        using var created = await platformAdmin.PostAsJsonAsync("/api/tenants", new { id = tenantId, displayName = "Statistics", adminUserName = adminName, adminPassword = AuthServer.Password }, Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        return (tenantId, platform.CreateClient(await platform.SignInAsync(adminName, AuthServer.Password)));
    }

    /// <summary>A <c>client_credentials</c> token of the Worker's service client for <paramref name="tenantId"/>, asked of the control plane as the Worker asks.</summary>
    private static async Task<string> ServiceTokenAsync(RunningPlatform platform, string tenantId)
    {
        using var internalClient = new HttpClient { BaseAddress = platform.ControlPlaneAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/token")
        {
            Content = new FormUrlEncodedContent(AuthServer.Form(("grant_type", "client_credentials"), ("tenant_id", tenantId))),
        };
        request.Headers.Authorization = AuthServer.Basic(RunningPlatform.WorkerClientId, RunningPlatform.WorkerClientSecret);
        using var response = await internalClient.SendAsync(request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    private static async Task SeedAsync(RunningPlatform platform, string tenantId, IReadOnlyList<AgentTask> tasks, IReadOnlyList<TaskStep> steps)
    {
        await using var scope = platform.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        db.Tasks.AddRange(tasks);
        db.TaskSteps.AddRange(steps);
        await db.SaveChangesAsync(Ct);
    }

    private static DateTime At(int month, int day, int hour) => new(2026, month, day, hour, 0, 0, DateTimeKind.Utc);

    private static IEnumerable<(string, bool)> Runs(string subAgent, int total, int failed) =>
        Enumerable.Range(0, total).Select(i => (subAgent, i < failed));

    private static AgentTask Ended(string tenantId, string status, DateTime createdAt, int milliseconds, long input = 0, long output = 0, long cost = 0)
    {
        var task = Running(tenantId, createdAt, input, output, cost);
        task.Status = status;
        task.CompletedAt = task.StartedAt!.Value.AddMilliseconds(milliseconds);
        return task;
    }

    private static AgentTask Running(string tenantId, DateTime createdAt, long input = 0, long output = 0, long cost = 0)
    {
        var task = Queued(tenantId, createdAt);
        task.Status = TaskStatuses.Running;
        task.StartedAt = createdAt.AddSeconds(1);
        (task.InputTokens, task.OutputTokens, task.CostMicros) = (input, output, cost);
        return task;
    }

    private static AgentTask CancelledWhileQueued(string tenantId, DateTime createdAt)
    {
        var task = Queued(tenantId, createdAt);
        task.Status = TaskStatuses.Cancelled;
        task.CancelRequestedAt = task.CompletedAt = createdAt.AddSeconds(5);
        return task;
    }

    private static AgentTask Queued(string tenantId, DateTime createdAt) => new()
    {
        Id = Guid.CreateVersion7(createdAt),
        TenantId = tenantId,
        Status = TaskStatuses.Queued,
        InputContentType = "text/plain",
        Input = "Seeded for the statistics.",
        InputSize = 26,
        RequestHash = new string('0', 64),
        SubmittedBy = "seed",
        TraceId = Guid.NewGuid().ToString("N"),
        MainAgentId = MainAgent.Id,
        CreatedAt = createdAt,
        UpdatedAt = createdAt,
    };

    private static TaskStep SubAgentRun(AgentTask task, int index, string subAgent, bool failed) => new()
    {
        TaskId = task.Id,
        TenantId = task.TenantId,
        Key = string.Create(CultureInfo.InvariantCulture, $"sub-agent/{index}"),
        Activity = TaskActivities.RunSubAgent.Name,
        Status = failed ? SubAgentStatuses.Failed : SubAgentStatuses.Succeeded,
        Error = failed ? "The output did not match its schema." : null,
        Attempts = failed ? 2 : 1,
        SubAgentId = subAgent,
        StartedAt = task.StartedAt ?? task.CreatedAt,
        CompletedAt = (task.StartedAt ?? task.CreatedAt).AddMilliseconds(10),
    };
}

public sealed class SqliteTaskStatisticsTests(SqliteTasksFixture fixture) : TaskStatisticsContract<SqliteTasksFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresTaskStatisticsTests(PostgresTasksFixture fixture) : TaskStatisticsContract<PostgresTasksFixture>(fixture);
