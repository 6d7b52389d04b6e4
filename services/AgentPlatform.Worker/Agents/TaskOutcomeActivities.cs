using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// The three ways a task ends. Each writes the task's final state and its final event in one unit of work, and does
/// nothing to a task that has ended already, so running one twice is harmless.
/// </summary>
public abstract class TaskOutcomeActivity<TInput>(ActivityDefinition<TInput, Done> definition, IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
    : TaskActivity<TInput, Done>(definition)
{
    protected async Task<Done> EndAsync(TaskFlowInput input, string status, Func<AgentTask, object> apply, CancellationToken cancellationToken)
    {
        await using var scope = TenantWork.Begin(scopeFactory, input.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var task = await db.Tasks.SingleAsync(t => t.Id == input.TaskId, cancellationToken);
        if (TaskStatuses.IsFinal(task.Status))
        {
            return new Done();
        }

        var now = timeProvider.GetUtcNow().UtcDateTime;
        task.Status = status;
        task.CompletedAt = now;
        task.UpdatedAt = now;
        var data = apply(task);
        await TaskEventLog.AppendAsync(db, task, status, status, data, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        TaskMetrics.TaskEnded(task);
        return new Done();
    }
}

public sealed class CompleteActivity(IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
    : TaskOutcomeActivity<CompleteInput>(TaskActivities.Complete, scopeFactory, timeProvider)
{
    protected override Task<Done> RunAsync(CompleteInput input, TaskRunContext run, CancellationToken cancellationToken) =>
        EndAsync(input.Task, TaskStatuses.Completed, task =>
        {
            task.Result = input.Result.Answer.Inline;
            task.ResultRefId = input.Result.Answer.RefId;
            task.ResultSize = input.Result.Answer.Size;
            task.JudgeScore = input.Judgement.Score;
            task.JudgePassed = input.Judgement.Passed;
            return new
            {
                result_ref_id = task.ResultRefId,
                result_size = task.ResultSize,
                judge_score = task.JudgeScore,
                judge_passed = task.JudgePassed,
                sub_agents_failed = input.SubAgentsFailed,
                input_tokens = task.InputTokens,
                output_tokens = task.OutputTokens,
                cost_micros = task.CostMicros,
            };
        }, cancellationToken);
}

public sealed class FailActivity(IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
    : TaskOutcomeActivity<FailInput>(TaskActivities.Fail, scopeFactory, timeProvider)
{
    protected override Task<Done> RunAsync(FailInput input, TaskRunContext run, CancellationToken cancellationToken) =>
        EndAsync(input.Task, TaskStatuses.Failed, task =>
        {
            task.ErrorCode = input.Code;
            task.ErrorMessage = input.Message.Length > 4000 ? input.Message[..4000] : input.Message;
            return new { code = task.ErrorCode, message = task.ErrorMessage };
        }, cancellationToken);
}

public sealed class CancelActivity(IServiceScopeFactory scopeFactory, TimeProvider timeProvider)
    : TaskOutcomeActivity<CancelInput>(TaskActivities.Cancel, scopeFactory, timeProvider)
{
    protected override Task<Done> RunAsync(CancelInput input, TaskRunContext run, CancellationToken cancellationToken) =>
        EndAsync(input.Task, TaskStatuses.Cancelled, task => new { cancel_requested_at = task.CancelRequestedAt }, cancellationToken);
}
