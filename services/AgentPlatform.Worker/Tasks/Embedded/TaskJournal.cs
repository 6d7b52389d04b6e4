using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.Worker.Tasks.Embedded;

/// <summary>This worker no longer holds the task's lease: another worker has it, and nothing more may be journaled.</summary>
public sealed class LeaseLostException(Guid taskId) : Exception($"The lease on task {taskId} was lost; another worker runs it now.");

/// <summary>
/// A task's record of its run, written the same way by both runners: a run begins by marking the task running
/// (with its <c>started</c> event), and each finished step is written with its progress event and the task's running
/// totals in one transaction. The embedded runner writes as the holder of the task's lease (an <c>owner</c>),
/// checked by a conditional update in that same transaction, so a step is journaled once even when two workers
/// briefly overlap. The Temporal runner has no lease (Temporal runs each workflow once) and writes without an owner;
/// its writes are retried activities, so a step whose key is journaled already is not journaled again.
/// </summary>
public sealed class TaskJournal(IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
{
    /// <summary>The error code of a task its runner gave up on.</summary>
    public const string RunnerFailed = "runner_failed";

    /// <summary>What the macro flow starts from, for <paramref name="task"/>.</summary>
    public static TaskFlowInput InputOf(AgentTask task) =>
        new(task.Id, task.TenantId, task.MainAgentId, task.TraceId, task.SubmittedBy, task.ChargedUserId, task.SubAgentHints, task.TokenBudget);

    /// <summary>
    /// Begins a run of the task: a queued task becomes running and reports <c>started</c>; past
    /// <paramref name="maxRuns"/> runs (a task that keeps stopping its runner) the task is failed instead. Returns
    /// the task as it is then; a final status means there is nothing to run.
    /// </summary>
    public async Task<AgentTask> StartAsync(string tenantId, Guid taskId, int? maxRuns, CancellationToken cancellationToken)
    {
        await using var scope = TenantScope(tenantId, out var db);
        var task = await db.Tasks.SingleAsync(t => t.Id == taskId, cancellationToken);
        if (TaskStatuses.IsFinal(task.Status))
        {
            return task;
        }

        if (maxRuns is { } max && task.Runs > max)
        {
            await FailAsync(db, task, $"The task stopped its runner {task.Runs - 1} times; it is not tried again.", cancellationToken);
            return task;
        }

        if (task.Status == TaskStatuses.Queued)
        {
            // Conditional, so a cancellation of the queued task at this moment is never turned back into a run.
            var now = timeProvider.GetUtcNow().UtcDateTime;
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var started = await db.Tasks
                .Where(t => t.Id == taskId && t.Status == TaskStatuses.Queued)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(t => t.Status, TaskStatuses.Running)
                    .SetProperty(t => t.StartedAt, now)
                    .SetProperty(t => t.UpdatedAt, now), cancellationToken);
            if (started == 1)
            {
                await TaskEventLog.AppendAsync(db, task, TaskEventTypes.Started, TaskEventTypes.Started, new { run = task.Runs }, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            await db.Entry(task).ReloadAsync(cancellationToken);
        }

        return task;
    }

    /// <summary>Fails a task that has not ended because its runner cannot run it (<see cref="RunnerFailed"/>); false when it has ended.</summary>
    public async Task<bool> FailUnrunnableAsync(string tenantId, Guid taskId, string message, CancellationToken cancellationToken)
    {
        await using var scope = TenantScope(tenantId, out var db);
        var task = await db.Tasks.SingleAsync(t => t.Id == taskId, cancellationToken);
        if (TaskStatuses.IsFinal(task.Status))
        {
            return false;
        }

        await FailAsync(db, task, message, cancellationToken);
        return true;
    }

    /// <summary>The task's journaled steps by key.</summary>
    public async Task<Dictionary<string, TaskStep>> ReadAsync(string tenantId, Guid taskId, CancellationToken cancellationToken)
    {
        await using var scope = TenantScope(tenantId, out var db);
        return await db.TaskSteps.AsNoTracking().Where(s => s.TaskId == taskId).ToDictionaryAsync(s => s.Key, StringComparer.Ordinal, cancellationToken);
    }

    /// <summary>
    /// Records a progress event (no step), e.g. that a sub-agent started; skipped when the task has it already.
    /// <paramref name="owner"/> is the lease holder, or null for a runner without leases.
    /// </summary>
    public Task RecordEventAsync(TaskFlowInput task, string? owner, TaskProgressEvent progress, CancellationToken cancellationToken) =>
        WriteAsync(task, owner, (db, row) => TaskEventLog.AppendAsync(db, row, progress.Type, progress.Key, progress.Data, cancellationToken), cancellationToken);

    /// <summary>
    /// Journals a finished step (and its event, and its usage on the task's totals), once: a step whose key is
    /// journaled already is left as it is. <paramref name="owner"/> is the lease holder, or null for a runner
    /// without leases.
    /// </summary>
    public async Task RecordStepAsync(TaskFlowInput task, string? owner, TaskStep step, TaskProgressEvent? progress, CancellationToken cancellationToken)
    {
        if (await WriteAsync(task, owner, async (db, row) =>
        {
            if (await db.TaskSteps.AnyAsync(s => s.TaskId == step.TaskId && s.Key == step.Key, cancellationToken))
            {
                return false;
            }

            db.TaskSteps.Add(step);
            row.InputTokens += step.InputTokens;
            row.OutputTokens += step.OutputTokens;
            row.CostMicros += step.CostMicros;
            row.UpdatedAt = timeProvider.GetUtcNow().UtcDateTime;
            if (progress is not null)
            {
                await TaskEventLog.AppendAsync(db, row, progress.Type, progress.Key, progress.Data, cancellationToken);
            }

            return true;
        }, cancellationToken))
        {
            TaskMetrics.StepJournaled(step);
        }
    }

    private async Task<bool> WriteAsync(TaskFlowInput task, string? owner, Func<AgentPlatformDbContext, AgentTask, Task<bool>> write, CancellationToken cancellationToken)
    {
        await using var scope = TenantScope(task.TenantId, out var db);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Taking the row first (a write lock on PostgreSQL, the database lock on SQLite) makes the lease check
        // and the journal entry one atomic unit against a competing claim, and against a concurrent write of the
        // same step by a runner without leases.
        var rows = db.Tasks.Where(t => t.Id == task.TaskId);
        if (owner is not null)
        {
            rows = rows.Where(t => t.LeaseOwner == owner);
        }

        var held = await rows.ExecuteUpdateAsync(set => set.SetProperty(t => t.LeaseOwner, t => t.LeaseOwner), cancellationToken);
        if (held == 0)
        {
            throw owner is null
                ? new InvalidOperationException($"Task {task.TaskId} of tenant '{task.TenantId}' does not exist.")
                : new LeaseLostException(task.TaskId);
        }

        var row = await db.Tasks.SingleAsync(t => t.Id == task.TaskId, cancellationToken);
        var written = await write(db, row);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    private async Task FailAsync(AgentPlatformDbContext db, AgentTask task, string message, CancellationToken cancellationToken)
    {
        task.Status = TaskStatuses.Failed;
        task.ErrorCode = RunnerFailed;
        task.ErrorMessage = message;
        task.CompletedAt = task.UpdatedAt = timeProvider.GetUtcNow().UtcDateTime;
        await TaskEventLog.AppendAsync(db, task, TaskEventTypes.Failed, TaskEventTypes.Failed, new { code = task.ErrorCode, message = task.ErrorMessage }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        TaskMetrics.TaskEnded(task);
    }

    private AsyncServiceScope TenantScope(string tenantId, out AgentPlatformDbContext db)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return scope;
    }
}
