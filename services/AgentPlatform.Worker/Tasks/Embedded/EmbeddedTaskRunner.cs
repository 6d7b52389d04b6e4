using System.Diagnostics;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Leasing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tasks.Embedded;

/// <summary>
/// The embedded runner: claims free tasks with leases, runs each through <see cref="TaskFlow"/> over its
/// journal, renews the lease while it runs (and learns of cancellation requests on the way), and gives the lease
/// up when it stops. Any number of workers share the load; a dead worker's tasks are picked up when their leases
/// expire and resume from their journals.
/// </summary>
public sealed partial class EmbeddedTaskRunner(
    TaskLeases leases,
    TaskJournal journal,
    TaskActivityHost activities,
    IServiceScopeFactory scopeFactory,
    IOptionsMonitor<TaskRunnerOptions> options,
    TimeProvider timeProvider,
    ILogger<EmbeddedTaskRunner> logger) : LeasedWorkService<Guid>
{
    /// <summary>Who holds this runner's leases: unique per runner, even with several in one process.</summary>
    public string Owner { get; } = $"{DistributedLeaseManager.ProcessOwner}/{Guid.NewGuid():N}";

    protected override int MaxConcurrent => options.CurrentValue.MaxConcurrentTasks;

    protected override TimeSpan PollInterval => options.CurrentValue.PollInterval;

    protected override Guid IdOf(Guid taskId) => taskId;

    protected override Task<IReadOnlyList<Guid>> ClaimAsync(int max, IReadOnlyCollection<Guid> runningHere, CancellationToken cancellationToken) =>
        leases.ClaimAsync(Owner, max, runningHere, cancellationToken);

    protected override void OnClaimFailed(Exception exception) => LogClaimFailed(logger, exception);

    protected override async Task ProcessAsync(Guid taskId, CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(taskId, stoppingToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or LeaseLostException)
        {
            LogStopped(logger, taskId, exception.Message);
        }
        catch (Exception exception)
        {
            // The lease is given up below, so another run (here or on another worker) tries again, up to MaxRuns.
            LogRunFailed(logger, exception, taskId);
        }
        finally
        {
            try
            {
                await leases.ReleaseAsync(taskId, Owner, CancellationToken.None);
            }
            catch (Exception exception)
            {
                LogClaimFailed(logger, exception);
            }
        }
    }

    private async Task RunAsync(Guid taskId, CancellationToken stoppingToken)
    {
        var task = await StartAsync(taskId, stoppingToken);
        if (task is null)
        {
            return;
        }

        var input = TaskJournal.InputOf(task);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var cancellationRequested = new CancellationTokenSource();
        if (task.CancelRequestedAt is not null)
        {
            await cancellationRequested.CancelAsync();
        }

        var steps = await journal.ReadAsync(task.TenantId, task.Id, stoppingToken);
        using var span = StartRunSpan(task, steps.Count);
        using var logScope = logger.BeginScope(new Dictionary<string, object>
        {
            [PlatformTags.TraceId] = task.TraceId,
            [PlatformTags.TenantId] = task.TenantId,
            [PlatformTags.TaskId] = task.Id,
            [PlatformTags.MainAgentId] = task.MainAgentId,
        });

        var renewal = RenewWhileRunningAsync(task.Id, stopping, cancellationRequested);
        try
        {
            if (steps.Count > 0)
            {
                await journal.RecordEventAsync(input, Owner, new TaskProgressEvent(
                    TaskEventTypes.Resumed, $"{TaskEventTypes.Resumed}/{task.Runs}", new { run = task.Runs, journaled_steps = steps.Count }), stopping.Token);
            }

            var flow = new JournaledFlowContext(input, Owner, steps, activities, journal, timeProvider, logger, cancellationRequested.Token, stopping.Token);
            var outcome = await TaskFlow.RunAsync(flow, input);
            span?.SetTag("agentplatform.task.status", outcome.Status).SetTag("agentplatform.steps.executed", flow.Executed);
            LogFinished(logger, task.Id, outcome.Status, steps.Count, flow.Executed);
        }
        finally
        {
            await stopping.CancelAsync();
            await renewal;
        }
    }

    // Marks the task running (first run: started; later runs: the journal says where it was) or, past MaxRuns,
    // fails it. Null when there is nothing to run.
    private async Task<AgentTask?> StartAsync(Guid taskId, CancellationToken cancellationToken)
    {
        string? tenantId;
        await using (var scope = scopeFactory.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
            tenantId = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.IgnoreQueryFilters([AgentPlatformDbContext.TenantFilter])
                .Where(t => t.Id == taskId && t.LeaseOwner == Owner).Select(t => t.TenantId).SingleOrDefaultAsync(cancellationToken);
        }

        if (tenantId is null)
        {
            return null;
        }

        var task = await journal.StartAsync(tenantId, taskId, options.CurrentValue.MaxRuns, cancellationToken);
        return TaskStatuses.IsFinal(task.Status) ? null : task;
    }

    private async Task RenewWhileRunningAsync(Guid taskId, CancellationTokenSource stopping, CancellationTokenSource cancellationRequested)
    {
        var interval = options.CurrentValue.LeaseDuration / 3;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(interval, timeProvider, stopping.Token);
                var state = await leases.RenewAsync(taskId, Owner, stopping.Token);
                if (!state.Held)
                {
                    LogLeaseLost(logger, taskId);
                    await stopping.CancelAsync();
                    return;
                }

                if (state.CancelRequested && !cancellationRequested.IsCancellationRequested)
                {
                    await cancellationRequested.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Without renewals the lease would lapse under a running task: stop, and let the next run resume it.
            LogClaimFailed(logger, exception);
            await stopping.CancelAsync();
        }
    }

    private static Activity? StartRunSpan(AgentTask task, int journaledSteps)
    {
        ActivityContext.TryParse(task.TraceParent, null, out var parent);
        var span = TaskActivityHost.Source.StartActivity("task run", ActivityKind.Internal, parent);
        span?.SetTag(PlatformTags.TenantId, task.TenantId)
            .SetTag(PlatformTags.TaskId, task.Id.ToString())
            .SetTag(PlatformTags.MainAgentId, task.MainAgentId)
            .SetTag("agentplatform.task.run", task.Runs)
            .SetTag("agentplatform.steps.journaled", journaledSteps);
        return span;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Claiming, renewing or releasing task leases failed")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} stopped on this worker ({Reason}); its lease lets another run resume it")]
    private static partial void LogStopped(ILogger logger, Guid taskId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Task {TaskId}: the run failed unexpectedly; it will be resumed")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, Guid taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: the lease was lost; stopping this run")]
    private static partial void LogLeaseLost(ILogger logger, Guid taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} ended {Status}: {Replayed} step(s) replayed from the journal, {Executed} run")]
    private static partial void LogFinished(ILogger logger, Guid taskId, string status, int replayed, int executed);
}
