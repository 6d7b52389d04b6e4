using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentPlatform.Worker.Tests;

/// <summary>
/// The embedded runner over a real database: leases, the journal, replay after a stop or a crash, failures,
/// cancellation and several workers sharing tasks. The Main Agent's activities are scripted (they are not the
/// subject here); the runner, the journal, the flow and the outcome activities are the real ones.
/// </summary>
public abstract class EmbeddedRunnerTests : DatabaseTest
{
    private const string Tenant = RunnerTestTasks.Tenant;

    [Fact]
    public async Task A_worker_that_stops_mid_task_leaves_it_to_another_which_resumes_without_rerunning_finished_steps()
    {
        var first = new ScriptedActivities();
        first.Hang["sub-agent/2"] = true;
        var workerA = await StartWorkerAsync(first);
        var taskId = await RunnerTestTasks.SubmitAsync(workerA);
        await first.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await workerA.DisposeAsync();

        var second = new ScriptedActivities();
        var workerB = await StartWorkerAsync(second);
        var task = await WaitForFinalAsync(workerB, taskId);

        Assert.Equal(TaskStatuses.Completed, task.Status);
        foreach (var step in (string[])["prepare", "plan", "route", "sub-agent/1"])
        {
            Assert.Equal(1, first.RunsOf(step));
            Assert.Equal(0, second.RunsOf(step));
        }

        Assert.Equal(1, second.RunsOf("sub-agent/2"));
        Assert.Equal(1, second.RunsOf("aggregate"));
        await using var scope = workerB.CreateTenantScope(Tenant);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var resumed = await db.TaskEvents.SingleAsync(e => e.TaskId == taskId && e.Type == TaskEventTypes.Resumed, Ct);
        Assert.Contains("\"journaled_steps\":4", resumed.Data, StringComparison.Ordinal);
        Assert.Equal(2, task.Runs);
        // Totals count every step once: 7 + 3 + 5 + 5 + 2 + 1 from the scripted usage.
        Assert.Equal(23, task.CostMicros);
        Assert.Equal("combined 2 of 2", task.Result);
    }

    [Fact]
    public async Task A_crashed_worker_keeps_its_tasks_until_the_lease_expires_then_another_resumes_them()
    {
        var lease = TimeSpan.FromSeconds(5);
        var shortLease = new Dictionary<string, string?> { ["TaskRunner:LeaseDuration"] = lease.ToString() };
        var host = await CreateRunnerHostAsync(new ScriptedActivities(), startRunner: false, shortLease);
        var taskId = await RunnerTestTasks.SubmitAsync(host);
        var leases = host.Services.GetRequiredService<TaskLeases>();

        var crashing = new ScriptedActivities();
        crashing.Hang["sub-agent/2"] = true;
        var crashingHost = await CreateRunnerHostAsync(crashing, startRunner: false);
        Assert.Equal([taskId], await leases.ClaimAsync("worker-a", 10, [], Ct));
        var claimedAt = DateTime.UtcNow;
        using var death = new CancellationTokenSource();
        var run = RunFlowAsync(crashingHost, taskId, "worker-a", death.Token);
        await crashing.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await death.CancelAsync(); // the process dies: nothing is released
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        var blocked = await leases.ClaimAsync("worker-b", 10, [], Ct);
        if (DateTime.UtcNow - claimedAt < lease - TimeSpan.FromSeconds(1))
        {
            // Still inside the dead worker's lease (a starved machine may have used it up by now): nobody may take over.
            Assert.Empty(blocked);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<Guid> claimed;
        while ((claimed = blocked.Count > 0 ? blocked : await leases.ClaimAsync("worker-b", 10, [], Ct)).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the dead worker's lease never expired");
            await Task.Delay(100, Ct);
        }

        Assert.Equal([taskId], claimed);
        var survivor = new ScriptedActivities();
        var survivorHost = await CreateRunnerHostAsync(survivor, startRunner: false);
        var outcome = await RunFlowAsync(survivorHost, taskId, "worker-b", Ct);

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.Equal(0, survivor.RunsOf("plan"));
        Assert.Equal(0, survivor.RunsOf("sub-agent/1"));
        Assert.Equal(1, survivor.RunsOf("sub-agent/2"));
        // The dead worker can no longer journal anything for the task.
        var journal = crashingHost.Services.GetRequiredService<TaskJournal>();
        await Assert.ThrowsAsync<LeaseLostException>(() => journal.RecordEventAsync(
            RunnerTestTasks.Input(taskId), "worker-a", new TaskProgressEvent("late", "late", new { }), Ct));
    }

    [Fact]
    public async Task A_task_whose_lease_lapsed_while_it_runs_here_is_not_claimed_again_beside_itself()
    {
        var host = await CreateRunnerHostAsync(new ScriptedActivities(), startRunner: false,
            new Dictionary<string, string?> { ["TaskRunner:LeaseDuration"] = "00:00:01" });
        var taskId = await RunnerTestTasks.SubmitAsync(host);
        var leases = host.Services.GetRequiredService<TaskLeases>();
        Assert.Equal([taskId], await leases.ClaimAsync("worker-a", 10, [], Ct));

        // A starved machine: the renewal is late and the lease lapses while the run goes on here.
        await Task.Delay(TimeSpan.FromMilliseconds(1200), Ct);

        Assert.Empty(await leases.ClaimAsync("worker-a", 10, [taskId], Ct));
        var renewed = await leases.RenewAsync(taskId, "worker-a", Ct);
        Assert.True(renewed.Held);
        Assert.Empty(await leases.ClaimAsync("worker-b", 10, [], Ct));
        await using var scope = host.CreateTenantScope(Tenant);
        var row = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct);
        Assert.Equal(1, row.Runs);
    }

    [Fact]
    public async Task A_sub_agent_that_fails_every_attempt_is_journaled_failed_and_the_task_completes_without_it()
    {
        var script = new ScriptedActivities();
        script.Fail["sub-agent/1"] = true;
        using var metrics = new MetricsRecorder(TaskMetrics.MeterName);
        var worker = await StartWorkerAsync(script);
        var task = await WaitForFinalAsync(worker, await RunnerTestTasks.SubmitAsync(worker));

        Assert.Equal(TaskStatuses.Completed, task.Status);
        Assert.Equal(TaskActivities.RunSubAgent.Policy.MaxAttempts, script.RunsOf("sub-agent/1"));
        // The meter is process-wide and other tests run alongside: these are lower bounds.
        Assert.True(metrics.Sum("agentplatform.sub_agent.runs", ("status", "failed")) >= 1);
        Assert.True(metrics.Sum("agentplatform.sub_agent.runs", ("status", "succeeded")) >= 1);
        Assert.True(metrics.Sum("agentplatform.tasks.ended", ("status", "completed")) >= 1);
        Assert.True(metrics.Sum("agentplatform.task.tokens", ("activity", "plan")) >= 120);
        Assert.Equal("combined 1 of 2", task.Result);
        await using var scope = worker.CreateTenantScope(Tenant);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var failed = await db.TaskSteps.SingleAsync(s => s.TaskId == task.Id && s.Key == "sub-agent/1", Ct);
        Assert.Equal(JournaledFlowContext.Failed, failed.Status);
        Assert.Contains("scripted to fail", failed.Error, StringComparison.Ordinal);
        var finished = await db.TaskEvents.SingleAsync(e => e.TaskId == task.Id && e.Key == "sub-agent.finished/sub-agent/1", Ct);
        Assert.Contains("\"status\":\"failed\"", finished.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_every_sub_agent_fails_the_task_fails_with_the_reason()
    {
        var script = new ScriptedActivities();
        script.Fail["sub-agent/1"] = true;
        script.Fail["sub-agent/2"] = true;
        var worker = await StartWorkerAsync(script);
        var task = await WaitForFinalAsync(worker, await RunnerTestTasks.SubmitAsync(worker));

        Assert.Equal(TaskStatuses.Failed, task.Status);
        Assert.Equal(TaskErrorCodes.SubAgentsFailed, task.ErrorCode);
        Assert.Equal(0, script.RunsOf("aggregate"));
    }

    [Fact]
    public async Task A_cancellation_request_stops_the_running_step_and_cancels_the_task()
    {
        var script = new ScriptedActivities();
        script.Hang["sub-agent/2"] = true;
        // Renewals (a third of the lease) are when a runner learns of a cancellation request.
        var worker = await CreateRunnerHostAsync(script, startRunner: true, new Dictionary<string, string?> { ["TaskRunner:LeaseDuration"] = "00:00:03" });
        var taskId = await RunnerTestTasks.SubmitAsync(worker);
        await script.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await using (var scope = worker.CreateTenantScope(Tenant))
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
            await db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(set => set.SetProperty(t => t.CancelRequestedAt, DateTime.UtcNow), Ct);
        }

        var task = await WaitForFinalAsync(worker, taskId);
        Assert.Equal(TaskStatuses.Cancelled, task.Status);
        Assert.Equal(0, script.RunsOf("aggregate"));
        await using var check = worker.CreateTenantScope(Tenant);
        Assert.True(await check.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().TaskEvents
            .AnyAsync(e => e.TaskId == taskId && e.Type == TaskEventTypes.Cancelled, Ct));
    }

    [Fact]
    public async Task Two_workers_share_the_tasks_and_every_task_runs_once()
    {
        var first = new ScriptedActivities();
        var second = new ScriptedActivities();
        var workerA = await StartWorkerAsync(first);
        var workerB = await StartWorkerAsync(second);
        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add(await RunnerTestTasks.SubmitAsync(workerA));
        }

        foreach (var id in ids)
        {
            var task = await WaitForFinalAsync(workerA, id);
            Assert.Equal(TaskStatuses.Completed, task.Status);
            Assert.Equal(1, task.Runs);
        }

        Assert.Equal(12, first.RunsOf("plan") + second.RunsOf("plan"));

        // The complete step ends the task, and its journal row is written just after: wait for the last ones.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int journaled;
        while ((journaled = await CountStepsAsync()) < 12 * 8 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(12 * 8, journaled);

        async Task<int> CountStepsAsync()
        {
            await using var scope = workerA.CreateTenantScope(Tenant);
            return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().TaskSteps.CountAsync(s => ids.Contains(s.TaskId), Ct);
        }
    }

    [Fact]
    public async Task An_activity_output_above_the_claim_check_threshold_never_reaches_the_journal()
    {
        var host = await CreateRunnerHostAsync(new ScriptedActivities(), startRunner: false,
            new Dictionary<string, string?> { ["ClaimCheck:InlineThresholdBytes"] = "1024" });
        var activities = host.Services.GetRequiredService<TaskActivityHost>();
        var big = new string('x', 2000);
        var exception = Assert.Throws<PayloadTooLargeException>(() => activities.EnsureInline("The output of step 'plan'", $"\"{big}\""));
        Assert.Equal(1024, exception.Threshold);
        await Assert.ThrowsAsync<PayloadTooLargeException>(() =>
            activities.RunAsync("prepare", $"{{\"taskId\":\"{Guid.NewGuid()}\",\"padding\":\"{big}\"}}", new TaskRunContext(RunnerTestTasks.Input(Guid.NewGuid()), "prepare", 1), Ct));
    }

    private async Task<PlatformTestHost> StartWorkerAsync(ScriptedActivities script) => await CreateRunnerHostAsync(script, startRunner: true);

    private Task<PlatformTestHost> CreateRunnerHostAsync(ScriptedActivities script, bool startRunner, IReadOnlyDictionary<string, string?>? settings = null) =>
        CreateHostAsync(builder =>
        {
            RunnerTestTasks.AddRunnerServices(builder, script);
            builder.Services.AddSingleton<TaskLeases>();
            if (startRunner)
            {
                builder.Services.AddHostedService<EmbeddedTaskRunner>();
            }
        },
        new Dictionary<string, string?>
        {
            ["TaskRunner:LeaseDuration"] = "00:00:30",
            ["TaskRunner:PollInterval"] = "00:00:00.050",
        }.Concat(settings ?? new Dictionary<string, string?>()).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value),
        start: startRunner);

    private static async Task<TaskFlowOutcome> RunFlowAsync(PlatformTestHost host, Guid taskId, string owner, CancellationToken stopping)
    {
        var journal = host.Services.GetRequiredService<TaskJournal>();
        var steps = await journal.ReadAsync(Tenant, taskId, Ct);
        var flow = new JournaledFlowContext(RunnerTestTasks.Input(taskId), owner, steps, host.Services.GetRequiredService<TaskActivityHost>(), journal,
            TimeProvider.System, NullLogger.Instance, CancellationToken.None, stopping);
        return await TaskFlow.RunAsync(flow, RunnerTestTasks.Input(taskId));
    }

    private static async Task<AgentTask> WaitForFinalAsync(PlatformTestHost host, Guid taskId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var scope = host.CreateTenantScope(Tenant))
            {
                var task = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, Ct);
                if (TaskStatuses.IsFinal(task.Status))
                {
                    return task;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"task {taskId} did not finish within 60 s");
            await Task.Delay(50, Ct);
        }
    }
}

public sealed class SqliteEmbeddedRunnerTests : EmbeddedRunnerTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresEmbeddedRunnerTests : EmbeddedRunnerTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
