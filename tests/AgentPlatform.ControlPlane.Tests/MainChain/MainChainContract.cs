using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.MainChain;

/// <summary>
/// The main chain end to end, as an integrator sees it: a task submitted through the gateway is planned, routed,
/// run by sub-agents, aggregated and judged by a Worker (the embedded runner) with the offline model, its
/// progress streamed as server-sent events and its result read back.
/// </summary>
public abstract class MainChainContract(PlatformFixture fixture) : IAsyncLifetime
{
    private static readonly string[] Lifecycle =
        ["submitted", "started", "planned", "routed", "sub-agent.started", "sub-agent.finished", "aggregated", "judged", "completed"];

    private IAsyncDisposable? worker;

    protected RunningPlatform Platform { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Platform = await fixture.GetAsync();
        worker = Platform.StartWorker();
    }

    public async ValueTask DisposeAsync()
    {
        if (worker is not null)
        {
            await worker.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_submitted_task_is_planned_run_aggregated_judged_and_streamed_live()
    {
        var client = Platform.CreateClient(await Platform.SignInAsAdminAsync());
        var taskId = await SubmitAsync(client, "Compare the quarterly revenue of both regions. Then draft a short summary for the board.");

        var events = await TaskEventsReader.ReadToEndAsync(client, taskId, null, Timeout());
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal("completed", types[^1]);
        Assert.Equal(Lifecycle, types.Distinct().ToArray());
        Assert.True(events.Select(e => e.Id).SequenceEqual(events.Select(e => e.Id).Order()), "events arrive in id order");
        var planned = events.Single(e => e.Type == "planned").Data;
        var subtasks = planned.GetProperty("subtasks").GetArrayLength();
        Assert.True(subtasks >= 2, $"the plan splits the two sentences: {planned}");
        Assert.Equal(subtasks, events.Count(e => e.Type == "sub-agent.finished"));
        Assert.All(events.Where(e => e.Type == "sub-agent.finished"), e => Assert.Equal("succeeded", e.Data.GetProperty("status").GetString()));

        var task = await GetTaskAsync(client, taskId);
        Assert.Equal("completed", task.GetProperty("status").GetString());
        Assert.Contains("[offline]", ResultText(task), StringComparison.Ordinal);

        // Every model call of the task reached the model gateway on the tenant's behalf, with the task's ids.
        await using var scope = Platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var steps = await db.TaskSteps.Where(s => s.TaskId == Guid.Parse(taskId)).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Contains(steps, s => s.Key == "plan" && s.InputTokens > 0 && s.OutputTokens > 0);
        Assert.Equal(subtasks, steps.Count(s => s.Key.StartsWith("sub-agent/", StringComparison.Ordinal)));
        Assert.All(steps, s => Assert.Equal("succeeded", s.Status));
        await WaitForAsync(async () => await db.ModelUsage.CountAsync(u => u.TaskId == taskId, TestContext.Current.CancellationToken) >= steps.Count(s => s.Activity != "prepare" && s.Activity != "complete"));
        var usage = await db.ModelUsage.Where(u => u.TaskId == taskId).ToListAsync(TestContext.Current.CancellationToken);
        Assert.All(usage, u => Assert.Equal("default", u.TenantId));
        Assert.All(usage, u => Assert.Equal("main-agent@1", u.MainAgentId));
        Assert.Equal(subtasks, usage.Count(u => u.SubAgentId == "analysis@1.0.0"));
    }

    [Fact]
    public async Task A_one_mebibyte_input_goes_by_claim_check_and_its_result_comes_back()
    {
        var client = Platform.CreateClient(await Platform.SignInAsAdminAsync());
        var input = new StringBuilder();
        for (var line = 0; input.Length < 1024 * 1024; line++)
        {
            input.Append("Line ").Append(line).Append(": the northern region sold 120 units and the southern region 95 units this quarter.\n");
        }

        input.Append("Final line: summarise the sales of both regions.");
        var taskId = await SubmitAsync(client, input.ToString());

        var events = await TaskEventsReader.ReadToEndAsync(client, taskId, null, Timeout());
        Assert.Equal("completed", events[^1].Type);
        Assert.All(events, e => Assert.True(e.Data.GetRawText().Length < 16 * 1024, $"event {e.Type} carries a payload"));

        var task = await GetTaskAsync(client, taskId);
        Assert.Equal("completed", task.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(ResultText(task)));

        await using var scope = Platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var row = await db.Tasks.SingleAsync(t => t.Id == Guid.Parse(taskId), TestContext.Current.CancellationToken);
        Assert.Null(row.Input);
        Assert.NotNull(row.InputRefId);
        var prepare = await db.TaskSteps.SingleAsync(s => s.TaskId == row.Id && s.Key == "prepare", TestContext.Current.CancellationToken);
        using var prepared = JsonDocument.Parse(prepare.Output!);
        Assert.True(prepared.RootElement.GetProperty("trimmed").GetBoolean(), "the Context Optimizer trimmed the input to its budget");
        Assert.True(prepared.RootElement.GetProperty("inputTokens").GetInt32() > prepared.RootElement.GetProperty("contextTokens").GetInt32());
        Assert.All(await db.TaskSteps.Where(s => s.TaskId == row.Id).ToListAsync(TestContext.Current.CancellationToken),
            s => Assert.True((s.Output?.Length ?? 0) <= 32 * 1024, $"step {s.Key} journaled {s.Output?.Length} bytes inline"));
    }

    private static async Task<string> SubmitAsync(HttpClient client, string input)
    {
        using var response = await client.PostAsJsonAsync("/api/tasks", new { input }, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("task_id").GetString()!;
    }

    private static async Task<JsonElement> GetTaskAsync(HttpClient client, string taskId)
    {
        using var response = await client.GetAsync($"/api/tasks/{taskId}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private static string ResultText(JsonElement task) =>
        task.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.String ? result.GetString()! : result.GetRawText();

    private static CancellationToken Timeout()
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(TimeSpan.FromMinutes(2));
        return source.Token;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}

public sealed class SqliteMainChainContract(SqlitePlatformFixture fixture) : MainChainContract(fixture), IClassFixture<SqlitePlatformFixture>;

public sealed class PostgresMainChainContract(PostgresPlatformFixture fixture) : MainChainContract(fixture), IClassFixture<PostgresPlatformFixture>;
