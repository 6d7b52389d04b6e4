namespace AgentPlatform.Orchestration;

/// <summary>
/// The macro flow of one task: prepare the context → plan → route → run the sub-agents (concurrently where the
/// plan's dependencies allow) → aggregate → judge → complete. Deterministic, so it can be replayed: it reads
/// nothing but its input and what its steps return, and decides nothing by time or chance. A sub-agent that
/// fails on every attempt does not fail the task; the others' results are aggregated without it (and the
/// result says so). The task fails when a Main Agent step fails or every sub-agent does; it is cancelled when
/// its cancellation is requested, at whichever step it is.
/// </summary>
public static class TaskFlow
{
    /// <summary>How many sub-agents of one task run at the same time.</summary>
    public const int MaxConcurrentSubAgents = 4;

    public static async Task<TaskFlowOutcome> RunAsync(ITaskFlowContext flow, TaskFlowInput input)
    {
        ArgumentNullException.ThrowIfNull(flow);
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            var prepared = await flow.RunAsync("prepare", TaskActivities.Prepare, input);
            var plan = await flow.RunAsync("plan", TaskActivities.Plan, new PlanInput(input, prepared));
            if (plan.Subtasks.Count == 0)
            {
                return await FailAsync(flow, input, TaskErrorCodes.EmptyPlan, "The Main Agent's plan has no subtasks.");
            }

            var routing = await flow.RunAsync("route", TaskActivities.Route, new RouteInput(input, plan));
            var results = await RunSubAgentsAsync(flow, input, prepared, plan, routing);
            var failed = results.Count(r => !r.Succeeded);
            if (failed == results.Count)
            {
                return await FailAsync(flow, input, TaskErrorCodes.SubAgentsFailed,
                    $"Every sub-agent failed; the first said: {results[0].Error}");
            }

            var aggregate = await flow.RunAsync("aggregate", TaskActivities.Aggregate, new AggregateInput(input, plan, results));
            var judgement = await flow.RunAsync("judge", TaskActivities.Judge, new JudgeInput(input, prepared, aggregate));
            await flow.RunAsync("complete", TaskActivities.Complete, new CompleteInput(input, aggregate, judgement, failed));
            return new TaskFlowOutcome(TaskStatuses.Completed);
        }
        catch (OperationCanceledException) when (flow.CancellationRequested.IsCancellationRequested)
        {
            await flow.RunAsync("cancel", TaskActivities.Cancel, new CancelInput(input));
            return new TaskFlowOutcome(TaskStatuses.Cancelled);
        }
        catch (StepFailedException failure)
        {
            return await FailAsync(flow, input, TaskErrorCodes.StepFailed, failure.Message);
        }
    }

    private static async Task<TaskFlowOutcome> FailAsync(ITaskFlowContext flow, TaskFlowInput input, string code, string message)
    {
        await flow.RunAsync("fail", TaskActivities.Fail, new FailInput(input, code, message));
        return new TaskFlowOutcome(TaskStatuses.Failed, code);
    }

    // Waves: every subtask whose dependencies have results runs, up to the concurrency bound; a dependency on a
    // subtask the plan does not have is ignored, and a cycle is broken in plan order.
    private static async Task<List<SubAgentResult>> RunSubAgentsAsync(
        ITaskFlowContext flow, TaskFlowInput input, PreparedTask prepared, TaskPlan plan, RoutingDecision routing)
    {
        var known = plan.Subtasks.Select(s => s.Id).ToHashSet();
        var results = new Dictionary<int, SubAgentResult>();
        var pending = plan.Subtasks.ToList();
        while (pending.Count > 0)
        {
            var ready = pending
                .Where(s => s.DependsOn.All(d => results.ContainsKey(d) || !known.Contains(d) || d == s.Id))
                .Take(MaxConcurrentSubAgents)
                .ToList();
            if (ready.Count == 0)
            {
                ready.Add(pending[0]);
            }

            var runs = ready.Select(subtask => RunSubAgentAsync(flow, input, prepared, subtask, AssignmentOf(routing, subtask), results)).ToList();
            foreach (var result in await flow.WhenAllAsync(runs))
            {
                results[result.SubtaskId] = result;
            }

            pending.RemoveAll(ready.Contains);
        }

        return plan.Subtasks.Select(s => results[s.Id]).ToList();
    }

    private static async Task<SubAgentResult> RunSubAgentAsync(
        ITaskFlowContext flow, TaskFlowInput input, PreparedTask prepared, PlannedSubtask subtask, SubtaskAssignment assignment,
        Dictionary<int, SubAgentResult> results)
    {
        var dependencies = subtask.DependsOn.Where(results.ContainsKey).Select(d => results[d]).ToList();
        try
        {
            return await flow.RunAsync(
                $"sub-agent/{subtask.Id}", TaskActivities.RunSubAgent, new SubAgentInput(input, prepared, subtask, assignment, dependencies));
        }
        catch (StepFailedException failure)
        {
            return new SubAgentResult(subtask.Id, assignment.SubAgentId, SubAgentStatuses.Failed, null, [], failure.Reason, StepUsage.None);
        }
    }

    private static SubtaskAssignment AssignmentOf(RoutingDecision routing, PlannedSubtask subtask) =>
        routing.Assignments.FirstOrDefault(a => a.SubtaskId == subtask.Id)
        ?? new SubtaskAssignment(subtask.Id, BuiltInSubAgents.Analysis, 0, "The router gave this subtask no sub-agent; analysis takes it.");
}

/// <summary>A task's lifecycle states.</summary>
public static class TaskStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}

/// <summary>Why a task failed, in its <c>error.code</c>.</summary>
public static class TaskErrorCodes
{
    public const string EmptyPlan = "empty_plan";
    public const string SubAgentsFailed = "sub_agents_failed";
    public const string StepFailed = "step_failed";
}
