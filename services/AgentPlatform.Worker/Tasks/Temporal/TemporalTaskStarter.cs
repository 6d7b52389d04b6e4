using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks.Embedded;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentPlatform.Worker.Tasks.Temporal;

/// <summary>
/// Hands tasks to Temporal: every poll it claims queued tasks (a conditional update of the task row, so one of any
/// number of workers claims each, for <see cref="TaskRunnerOptions.LeaseDuration"/>) and starts one
/// <see cref="TaskWorkflow"/> per task, with the workflow id <c>task-{taskId}</c>: a task whose workflow already
/// runs keeps it, and one whose workflow has closed never gets another. A claim that could not start its workflow
/// (Temporal unreachable) lapses and the task is claimed again. The workflow's first activity marks the task
/// running, so a task leaves the queue only once its workflow really began. The starter also forwards cancellation
/// requests of running tasks as the workflow's <c>cancel</c> signal (once per task and process; the signal is
/// idempotent, so another worker forwarding it too is harmless).
/// </summary>
public sealed partial class TemporalTaskStarter(
    ITemporalClient client,
    TaskJournal journal,
    IServiceScopeFactory scopeFactory,
    IOptionsMonitor<TaskRunnerOptions> options,
    TimeProvider timeProvider,
    ILogger<TemporalTaskStarter> logger) : BackgroundService
{
    private readonly HashSet<Guid> cancellationsForwarded = [];

    /// <summary>Who claims queued tasks here (the lease owner while a workflow is being started).</summary>
    public string Owner { get; } = $"temporal-starter/{DistributedLeaseManager.ProcessOwner}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await StartQueuedAsync(stoppingToken);
                    await ForwardCancellationsAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogPollFailed(logger, exception);
                }

                await Task.Delay(options.CurrentValue.PollInterval, timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Claims queued tasks and starts their workflows; returns how many workflows were started.</summary>
    public async Task<int> StartQueuedAsync(CancellationToken cancellationToken)
    {
        var started = 0;
        foreach (var task in await ClaimQueuedAsync(options.CurrentValue.MaxConcurrentTasks, cancellationToken))
        {
            try
            {
                await client.StartWorkflowAsync(
                    (TaskWorkflow workflow) => workflow.RunAsync(task),
                    new WorkflowOptions(TaskWorkflow.WorkflowId(task.TaskId), TaskRunnerOptions.TemporalTaskQueue)
                    {
                        IdReusePolicy = WorkflowIdReusePolicy.RejectDuplicate,
                        IdConflictPolicy = WorkflowIdConflictPolicy.UseExisting,
                    });
                started++;
            }
            catch (WorkflowAlreadyStartedException)
            {
                // Its one workflow has closed without taking the task off the queue (terminated by an operator, say):
                // nothing will run it now.
                if (await journal.FailUnrunnableAsync(task.TenantId, task.TaskId,
                    $"The task's workflow {TaskWorkflow.WorkflowId(task.TaskId)} ended without running it.", cancellationToken))
                {
                    LogWorkflowClosed(logger, task.TaskId);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogStartFailed(logger, exception, task.TaskId);
            }
        }

        return started;
    }

    /// <summary>
    /// Claims up to <paramref name="max"/> queued tasks that no starter has claimed (or whose claim lapsed), highest
    /// priority and oldest first.
    /// </summary>
    public async Task<IReadOnlyList<TaskFlowInput>> ClaimQueuedAsync(int max, CancellationToken cancellationToken)
    {
        await using var scope = SystemScope(out var db);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var candidates = await Claimable(db, now)
            .OrderByDescending(t => t.Priority).ThenBy(t => t.CreatedAt)
            .Take(max)
            .AsNoTracking()
            .ToListAsync(cancellationToken);

        var claimed = new List<TaskFlowInput>(candidates.Count);
        var expiresAt = now + options.CurrentValue.LeaseDuration;
        foreach (var task in candidates)
        {
            var won = await Claimable(db, now)
                .Where(t => t.Id == task.Id)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(t => t.LeaseOwner, Owner)
                    .SetProperty(t => t.LeaseExpiresAt, expiresAt)
                    .SetProperty(t => t.Runs, t => t.Runs + 1), cancellationToken);
            if (won == 1)
            {
                claimed.Add(TaskJournal.InputOf(task));
            }
        }

        return claimed;
    }

    /// <summary>Signals <c>cancel</c> to the workflows of running tasks whose cancellation was requested; returns how many.</summary>
    public async Task<int> ForwardCancellationsAsync(CancellationToken cancellationToken)
    {
        List<Guid> requested;
        await using (var scope = SystemScope(out var db))
        {
            requested = await db.Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
                .Where(t => t.Status == TaskStatuses.Running && t.CancelRequestedAt != null)
                .OrderBy(t => t.CancelRequestedAt)
                .Select(t => t.Id)
                .Take(1000)
                .ToListAsync(cancellationToken);
        }

        // Forget tasks that have ended since, so the set stays as small as the list of pending requests.
        cancellationsForwarded.IntersectWith(requested);
        var forwarded = 0;
        foreach (var taskId in requested.Where(id => !cancellationsForwarded.Contains(id)))
        {
            try
            {
                await client.GetWorkflowHandle<TaskWorkflow>(TaskWorkflow.WorkflowId(taskId)).SignalAsync(workflow => workflow.CancelAsync());
                forwarded++;
            }
            catch (RpcException exception) when (exception.Code == RpcException.StatusCode.NotFound)
            {
                // The workflow has closed: whatever ended it also ends the task.
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogSignalFailed(logger, exception, taskId);
                continue;
            }

            cancellationsForwarded.Add(taskId);
        }

        return forwarded;
    }

    private static IQueryable<AgentTask> Claimable(AgentPlatformDbContext db, DateTime now) =>
        db.Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
            .Where(t => t.Status == TaskStatuses.Queued && (t.LeaseExpiresAt == null || t.LeaseExpiresAt <= now));

    private AsyncServiceScope SystemScope(out AgentPlatformDbContext db)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return scope;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Starting task workflows or forwarding cancellations failed; trying again at the next poll")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: its workflow did not start; the task is claimed again when the claim lapses")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, Guid taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: its workflow closed without running it; the task was failed")]
    private static partial void LogWorkflowClosed(ILogger logger, Guid taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: forwarding its cancellation request failed; trying again at the next poll")]
    private static partial void LogSignalFailed(ILogger logger, Exception exception, Guid taskId);
}
