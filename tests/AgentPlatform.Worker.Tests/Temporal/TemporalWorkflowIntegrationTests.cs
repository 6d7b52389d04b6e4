using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>
/// The whole Temporal runner against a Temporal server: the starter starts one workflow per queued task, the worker
/// runs the flow's steps as activities over a real database, and the task ends with the same journal, events and
/// result the embedded runner produces. Scripted Main Agent and sub-agent activities, as in the embedded runner's tests.
/// </summary>
public sealed class TemporalWorkflowIntegrationTests : DatabaseTest
{
    private static readonly string[] Steps = ["prepare", "plan", "route", "sub-agent/1", "sub-agent/2", "aggregate", "judge", "complete"];

    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    [TemporalFact]
    public async Task A_task_runs_as_its_one_workflow_and_is_journaled_as_the_embedded_runner_journals_it()
    {
        var script = new ScriptedActivities();
        var host = await StartRunnerAsync(script);
        var taskId = await RunnerTestTasks.SubmitAsync(host);

        var task = await WaitForFinalAsync(host, taskId);

        Assert.Equal(TaskStatuses.Completed, task.Status);
        Assert.Equal("combined 2 of 2", task.Result);
        Assert.Equal(23, task.CostMicros);
        Assert.All(Steps.Take(7), step => Assert.Equal(1, script.RunsOf(step)));
        var steps = await RunnerTestTasks.StepsAsync(host, taskId);
        Assert.Equal(Steps.Order(), steps.Select(s => s.Key).Order());
        Assert.All(steps, s => Assert.Equal(JournaledFlowContext.Succeeded, s.Status));
        var events = (await RunnerTestTasks.EventsAsync(host, taskId)).Select(e => e.Key).ToList();
        Assert.Equal(
            [TaskEventTypes.Submitted, TaskEventTypes.Started, TaskEventTypes.Planned, TaskEventTypes.Routed, "sub-agent.started/sub-agent/1",
             "sub-agent.finished/sub-agent/1", "sub-agent.started/sub-agent/2", "sub-agent.finished/sub-agent/2", TaskEventTypes.Aggregated,
             TaskEventTypes.Judged, TaskEventTypes.Completed],
            events);

        var client = host.Services.GetRequiredService<ITemporalClient>();
        var workflow = client.GetWorkflowHandle<TaskWorkflow>(TaskWorkflow.WorkflowId(taskId));
        Assert.Equal(new TaskFlowOutcome(TaskStatuses.Completed), await workflow.GetResultAsync<TaskFlowOutcome>());
        var progress = await workflow.QueryAsync(w => w.Progress());
        Assert.Equal(Steps, progress.Select(p => p.Key));
        // A task has one workflow, ever.
        await Assert.ThrowsAsync<WorkflowAlreadyStartedException>(() => client.StartWorkflowAsync(
            (TaskWorkflow w) => w.RunAsync(RunnerTestTasks.Input(taskId)),
            new WorkflowOptions(TaskWorkflow.WorkflowId(taskId), TaskRunnerOptions.TemporalTaskQueue) { IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate }));
    }

    [TemporalFact]
    public async Task A_sub_agent_that_fails_every_attempt_is_retried_by_Temporal_then_journaled_failed_and_the_task_completes_without_it()
    {
        var script = new ScriptedActivities();
        script.Fail["sub-agent/1"] = true;
        var host = await StartRunnerAsync(script);
        var taskId = await RunnerTestTasks.SubmitAsync(host);

        var task = await WaitForFinalAsync(host, taskId);

        Assert.Equal(TaskStatuses.Completed, task.Status);
        Assert.Equal("combined 1 of 2", task.Result);
        Assert.Equal(TaskActivities.RunSubAgent.Policy.MaxAttempts, script.RunsOf("sub-agent/1"));
        var failed = Assert.Single(await RunnerTestTasks.StepsAsync(host, taskId), s => s.Key == "sub-agent/1");
        Assert.Equal((JournaledFlowContext.Failed, TaskActivities.RunSubAgent.Policy.MaxAttempts), (failed.Status, failed.Attempts));
        Assert.Equal("sub-agent/1 is scripted to fail", failed.Error);
    }

    [TemporalFact]
    public async Task A_cancellation_request_is_signalled_to_the_workflow_which_cancels_the_running_step_and_the_task()
    {
        var script = new ScriptedActivities();
        script.Hang["sub-agent/2"] = true;
        var host = await StartRunnerAsync(script);
        var taskId = await RunnerTestTasks.SubmitAsync(host);
        await script.HangStarted.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        await using (var scope = host.CreateTenantScope(RunnerTestTasks.Tenant))
        {
            await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.Where(t => t.Id == taskId)
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.CancelRequestedAt, DateTime.UtcNow), Ct);
        }

        var task = await WaitForFinalAsync(host, taskId);
        Assert.Equal(TaskStatuses.Cancelled, task.Status);
        Assert.Equal(0, script.RunsOf("aggregate"));
        Assert.Contains(await RunnerTestTasks.EventsAsync(host, taskId), e => e.Type == TaskEventTypes.Cancelled);
        Assert.DoesNotContain(await RunnerTestTasks.StepsAsync(host, taskId), s => s.Key == "sub-agent/2");
    }

    private Task<PlatformTestHost> StartRunnerAsync(ScriptedActivities script) => CreateHostAsync(
        builder =>
        {
            RunnerTestTasks.AddRunnerServices(builder, script);
            builder.Services.AddTemporalTaskRunner();
        },
        new Dictionary<string, string?>
        {
            ["TaskRunner:Runner"] = TaskRunnerOptions.Temporal,
            ["TaskRunner:TemporalAddress"] = TemporalFactAttribute.Address,
            ["TaskRunner:PollInterval"] = "00:00:00.100",
        },
        start: true);

    private static async Task<AgentTask> WaitForFinalAsync(PlatformTestHost host, Guid taskId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var task = await RunnerTestTasks.ReadAsync(host, taskId);
            if (TaskStatuses.IsFinal(task.Status))
            {
                return task;
            }

            Assert.True(DateTime.UtcNow < deadline, $"task {taskId} did not finish within 90 s");
            await Task.Delay(100, Ct);
        }
    }
}
