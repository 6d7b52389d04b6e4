using System.Text.Json;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Converters;
using Temporalio.Exceptions;
using Temporalio.Testing;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>
/// The Temporal runner's activities under <see cref="ActivityEnvironment"/> over a real database: they begin the run
/// and journal steps exactly as the embedded runner does (the same <see cref="TaskJournal"/>), run steps through the
/// same <see cref="TaskActivityHost"/>, and report failures and cancellation the way the workflow expects.
/// </summary>
public abstract class TemporalActivitiesTests : DatabaseTest
{
    [Fact]
    public async Task Starting_a_queued_task_marks_it_running_once_and_tells_the_workflow_the_threshold_and_trace()
    {
        var host = await CreateRunnerHostAsync(new ScriptedActivities());
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var taskId = await RunnerTestTasks.SubmitAsync(host);

        var start = await new ActivityEnvironment().RunAsync(() => activities.StartTaskAsync(RunnerTestTasks.Input(taskId)));
        var again = await new ActivityEnvironment().RunAsync(() => activities.StartTaskAsync(RunnerTestTasks.Input(taskId)));

        Assert.Equal(new TaskRunStart(TaskStatuses.Running, false, 32 * 1024, RunnerTestTasks.TraceParent), start);
        Assert.Equal(start, again);
        var task = await RunnerTestTasks.ReadAsync(host, taskId);
        Assert.Equal(TaskStatuses.Running, task.Status);
        Assert.NotNull(task.StartedAt);
        Assert.Single(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Type == TaskEventTypes.Started);
    }

    [Fact]
    public async Task Starting_a_task_that_has_ended_changes_nothing_and_says_how_it_ended()
    {
        var host = await CreateRunnerHostAsync(new ScriptedActivities());
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var taskId = await RunnerTestTasks.SubmitAsync(host, TaskStatuses.Cancelled);

        var start = await new ActivityEnvironment().RunAsync(() => activities.StartTaskAsync(RunnerTestTasks.Input(taskId)));

        Assert.Equal(TaskStatuses.Cancelled, start.Status);
        Assert.DoesNotContain(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Type == TaskEventTypes.Started);
    }

    [Fact]
    public async Task A_step_runs_through_the_activity_host_and_is_journaled_once_with_its_event_even_when_recorded_again()
    {
        var script = new ScriptedActivities();
        var host = await CreateRunnerHostAsync(script);
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var taskId = await RunnerTestTasks.SubmitAsync(host);
        var task = RunnerTestTasks.Input(taskId);
        var input = Json(new PlanInput(task, new PreparedTask(new ClaimedContent("Compare both regions.", null, 21, "text/plain"), 5, 5, false, StepUsage.None)));

        var result = await new ActivityEnvironment { Info = ActivityEnvironment.DefaultInfo with { Attempt = 2 } }
            .RunAsync(() => activities.RunStepAsync(new StepRun(task, "plan", TaskActivities.Plan.Name, RunnerTestTasks.TraceParent, null), input));

        Assert.Equal(2, result.Attempts);
        var plan = result.Output.Deserialize<TaskPlan>(TaskFlowJson.Options)!;
        Assert.Equal(2, plan.Subtasks.Count);
        Assert.Equal(1, script.RunsOf("plan"));

        var record = new StepRecord(task, "plan", TaskActivities.Plan.Name, JournaledFlowContext.Succeeded, result.Attempts, null,
            DateTime.UtcNow.AddSeconds(-1), DateTime.UtcNow, plan.Usage, null, TaskProgressEvents.Finished("plan", null, plan, TimeSpan.FromSeconds(1)));
        // Temporal runs an activity at least once: a record whose completion was lost is recorded again.
        await new ActivityEnvironment().RunAsync(() => activities.RecordStepAsync(RoundTripped(record), result.Output));
        await new ActivityEnvironment().RunAsync(() => activities.RecordStepAsync(RoundTripped(record), result.Output));

        var step = Assert.Single(await RunnerTestTasks.StepsAsync(host, taskId));
        Assert.Equal(("plan", "plan", JournaledFlowContext.Succeeded, 2), (step.Key, step.Activity, step.Status, step.Attempts));
        Assert.Equal(result.Output.GetRawText(), step.Output);
        var planned = Assert.Single(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Type == TaskEventTypes.Planned);
        Assert.Contains("\"goal\":\"Compare and summarise\"", planned.Data, StringComparison.Ordinal);
        var row = await RunnerTestTasks.ReadAsync(host, taskId);
        Assert.Equal((100, 20, 7), (row.InputTokens, row.OutputTokens, row.CostMicros));
    }

    [Fact]
    public async Task A_sub_agent_step_reports_that_it_started_before_it_runs_and_a_failed_one_is_journaled_failed_with_its_event()
    {
        var script = new ScriptedActivities();
        script.Fail["sub-agent/1"] = true;
        var host = await CreateRunnerHostAsync(script);
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var taskId = await RunnerTestTasks.SubmitAsync(host);
        var task = RunnerTestTasks.Input(taskId);
        var subAgent = new SubAgentInput(task, new PreparedTask(new ClaimedContent("context", null, 7, "text/plain"), 2, 2, false, StepUsage.None),
            new PlannedSubtask(1, "Compare both regions", "analysis", []), new SubtaskAssignment(1, BuiltInSubAgents.Analysis, 0.9, "scripted"), []);

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() => new ActivityEnvironment { Info = ActivityEnvironment.DefaultInfo with { Attempt = 2 } }
            .RunAsync(() => activities.RunStepAsync(
                new StepRun(task, "sub-agent/1", TaskActivities.RunSubAgent.Name, null, TaskProgressEvents.SubAgentStarted("sub-agent/1", subAgent)), Json(subAgent))));

        Assert.Equal(nameof(InvalidOperationException), failure.ErrorType);
        Assert.Equal("sub-agent/1 is scripted to fail", failure.Message);
        Assert.Equal(2, failure.Details.ElementAt<int>(0));
        Assert.False(failure.NonRetryable);
        Assert.Single(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Key == "sub-agent.started/sub-agent/1");

        var reason = failure.Message;
        var record = new StepRecord(task, "sub-agent/1", TaskActivities.RunSubAgent.Name, JournaledFlowContext.Failed, 2, BuiltInSubAgents.Analysis,
            DateTime.UtcNow.AddSeconds(-3), DateTime.UtcNow, StepUsage.None, reason,
            TaskProgressEvents.SubAgentFailed("sub-agent/1", subAgent, reason, 2, TimeSpan.FromSeconds(3)));
        await new ActivityEnvironment().RunAsync(() => activities.RecordStepAsync(RoundTripped(record), null));

        var step = Assert.Single(await RunnerTestTasks.StepsAsync(host, taskId));
        Assert.Equal((JournaledFlowContext.Failed, 2, BuiltInSubAgents.Analysis), (step.Status, step.Attempts, step.SubAgentId));
        Assert.Null(step.Output);
        Assert.Contains("scripted to fail", step.Error, StringComparison.Ordinal);
        var finished = Assert.Single(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Key == "sub-agent.finished/sub-agent/1");
        Assert.Contains("\"status\":\"failed\"", finished.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_above_the_claim_check_threshold_fails_the_attempt_with_the_error_type_the_retry_policy_does_not_retry()
    {
        var host = await CreateRunnerHostAsync(new ScriptedActivities(), new Dictionary<string, string?> { ["ClaimCheck:InlineThresholdBytes"] = "200" });
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var task = RunnerTestTasks.Input(await RunnerTestTasks.SubmitAsync(host));
        var input = Json(new PlanInput(task, new PreparedTask(new ClaimedContent("Compare.", null, 8, "text/plain"), 2, 2, false, StepUsage.None)));

        var failure = await Assert.ThrowsAsync<ApplicationFailureException>(() => new ActivityEnvironment()
            .RunAsync(() => activities.RunStepAsync(new StepRun(task, "plan", TaskActivities.Plan.Name, null, null), input)));

        Assert.Equal(nameof(PayloadTooLargeException), failure.ErrorType);
        Assert.Contains(failure.ErrorType, TemporalFlowContext.StepOptions("plan", TaskActivities.Plan.Policy, CancellationToken.None).RetryPolicy!.NonRetryableErrorTypes!);
        Assert.StartsWith("The input of step 'plan': a payload of", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancellation_reaches_a_running_step_through_its_heartbeats_and_is_not_reported_as_a_failure()
    {
        var script = new ScriptedActivities();
        script.Hang["sub-agent/2"] = true;
        var host = await CreateRunnerHostAsync(script);
        var activities = host.Services.GetRequiredService<TaskWorkflowActivities>();
        var task = RunnerTestTasks.Input(await RunnerTestTasks.SubmitAsync(host));
        var subAgent = new SubAgentInput(task, new PreparedTask(new ClaimedContent("context", null, 7, "text/plain"), 2, 2, false, StepUsage.None),
            new PlannedSubtask(2, "Draft a summary", "analysis", []), new SubtaskAssignment(2, BuiltInSubAgents.Analysis, 0.9, "scripted"), []);
        var heartbeats = 0;
        var environment = new ActivityEnvironment
        {
            Info = ActivityEnvironment.DefaultInfo with { HeartbeatTimeout = TimeSpan.FromMilliseconds(200) },
            Heartbeater = _ => Interlocked.Increment(ref heartbeats),
        };

        var run = environment.RunAsync(() => activities.RunStepAsync(new StepRun(task, "sub-agent/2", TaskActivities.RunSubAgent.Name, null, null), Json(subAgent)));
        await script.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        while (Volatile.Read(ref heartbeats) < 2)
        {
            await Task.Delay(20, Ct);
        }

        environment.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    private Task<PlatformTestHost> CreateRunnerHostAsync(ScriptedActivities script, IReadOnlyDictionary<string, string?>? settings = null) =>
        CreateHostAsync(builder => RunnerTestTasks.AddRunnerServices(builder, script), settings);

    private static JsonElement Json<T>(T value) => JsonSerializer.SerializeToElement(value, TaskFlowJson.Options);

    // As the record reaches the activity: through Temporal's JSON payload converter (event data arrives as JSON).
    private static StepRecord RoundTripped(StepRecord record) =>
        DataConverter.Default.PayloadConverter.ToValue<StepRecord>(DataConverter.Default.PayloadConverter.ToPayload(record));

}

public sealed class SqliteTemporalActivitiesTests : TemporalActivitiesTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresTemporalActivitiesTests : TemporalActivitiesTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
