using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Client;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>
/// How queued tasks reach Temporal without a lease: a conditional claim on the task row lets exactly one starter
/// start each task's workflow, and a claim that could not start one lapses so the task is tried again.
/// </summary>
public abstract class TemporalTaskStarterTests : DatabaseTest
{
    // Nothing listens there: a start fails the way it does while Temporal is down.
    private static readonly ITemporalClient Unreachable = TemporalClient.CreateLazy(new TemporalClientConnectOptions("127.0.0.1:1"));

    [Fact]
    public async Task Each_queued_task_is_claimed_by_one_starter_until_its_claim_lapses_and_running_tasks_are_left_alone()
    {
        var host = await CreateRunnerHostAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = Starter(host, time);
        var second = Starter(host, time);
        var queued = new[] { await RunnerTestTasks.SubmitAsync(host, priority: 1), await RunnerTestTasks.SubmitAsync(host, priority: 9) };
        await RunnerTestTasks.SubmitAsync(host, TaskStatuses.Running);

        var claimed = await first.ClaimQueuedAsync(10, Ct);

        Assert.Equal([queued[1], queued[0]], claimed.Select(t => t.TaskId));
        Assert.Equal(RunnerTestTasks.Input(queued[1]), claimed[0] with { SubAgentHints = [] });
        Assert.Empty(await second.ClaimQueuedAsync(10, Ct));
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(2, (await second.ClaimQueuedAsync(10, Ct)).Count);
        Assert.Equal(2, (await RunnerTestTasks.ReadAsync(host, queued[0])).Runs);
    }

    [Fact]
    public async Task A_task_whose_workflow_cannot_be_started_stays_queued_and_is_claimed_again_when_the_claim_lapses()
    {
        var host = await CreateRunnerHostAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var starter = Starter(host, time);
        var taskId = await RunnerTestTasks.SubmitAsync(host);

        Assert.Equal(0, await starter.StartQueuedAsync(Ct));

        var task = await RunnerTestTasks.ReadAsync(host, taskId);
        Assert.Equal(TaskStatuses.Queued, task.Status);
        Assert.Equal(starter.Owner, task.LeaseOwner);
        Assert.Empty(await starter.ClaimQueuedAsync(10, Ct));
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal([taskId], (await starter.ClaimQueuedAsync(10, Ct)).Select(t => t.TaskId));
    }

    private Task<PlatformTestHost> CreateRunnerHostAsync() =>
        CreateHostAsync(builder => RunnerTestTasks.AddRunnerServices(builder, new ScriptedActivities()));

    private static TemporalTaskStarter Starter(PlatformTestHost host, TimeProvider time) => new(
        Unreachable,
        host.Services.GetRequiredService<TaskJournal>(),
        host.Services.GetRequiredService<IServiceScopeFactory>(),
        host.Services.GetRequiredService<IOptionsMonitor<TaskRunnerOptions>>(),
        time,
        NullLogger<TemporalTaskStarter>.Instance);
}

public sealed class SqliteTemporalTaskStarterTests : TemporalTaskStarterTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresTemporalTaskStarterTests : TemporalTaskStarterTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
