using System.Collections.Concurrent;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Tasks;

namespace AgentPlatform.Worker.Tests;

/// <summary>
/// The Main Agent's and sub-agents' side of the port, scripted: each activity answers a fixed record and counts its
/// runs by step, and a sub-agent step can be told to hang (as if its process died in it) or to fail. The task's
/// outcome activities are the real ones.
/// </summary>
public sealed class ScriptedActivities
{
    public ConcurrentDictionary<string, int> Runs { get; } = new(StringComparer.Ordinal);

    /// <summary>Sub-agent steps that never finish until cancelled.</summary>
    public ConcurrentDictionary<string, bool> Hang { get; } = new(StringComparer.Ordinal);

    /// <summary>Sub-agent steps that throw on every attempt.</summary>
    public ConcurrentDictionary<string, bool> Fail { get; } = new(StringComparer.Ordinal);

    /// <summary>Set when a hanging step has started.</summary>
    public TaskCompletionSource HangStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int RunsOf(string step) => Runs.GetValueOrDefault(step);

    public IEnumerable<ITaskActivity> All()
    {
        yield return new Scripted<TaskFlowInput, PreparedTask>(this, TaskActivities.Prepare, (_, _) =>
            new PreparedTask(new ClaimedContent("Compare both regions. Then draft a summary.", null, 42, "text/plain"), 10, 10, false, StepUsage.None));
        yield return new Scripted<PlanInput, TaskPlan>(this, TaskActivities.Plan, (_, _) => new TaskPlan(
            "Compare and summarise",
            [new PlannedSubtask(1, "Compare both regions", "analysis", []), new PlannedSubtask(2, "Draft a summary", "analysis", [1])],
            "two steps",
            new StepUsage(100, 20, 7)));
        yield return new Scripted<RouteInput, RoutingDecision>(this, TaskActivities.Route, (input, _) => new RoutingDecision(
            [.. input.Plan.Subtasks.Select(s => new SubtaskAssignment(s.Id, BuiltInSubAgents.Analysis, 0.9, "scripted"))], new StepUsage(50, 10, 3)));
        yield return new Scripted<SubAgentInput, SubAgentResult>(this, TaskActivities.RunSubAgent, (input, run) => new SubAgentResult(
            input.Subtask.Id, input.Assignment.SubAgentId, SubAgentStatuses.Succeeded,
            new ClaimedContent($"result of {run.StepKey} with {input.Dependencies.Count} dependencies", null, 20, "text/plain"), [], null, new StepUsage(30, 30, 5)));
        yield return new Scripted<AggregateInput, AggregateResult>(this, TaskActivities.Aggregate, (input, _) => new AggregateResult(
            new ClaimedContent($"combined {input.Results.Count(r => r.Succeeded)} of {input.Results.Count}", null, 20, "text/plain"), ["analysis-1"], new StepUsage(40, 10, 2)));
        yield return new Scripted<JudgeInput, Judgement>(this, TaskActivities.Judge, (_, _) => new Judgement(0.8, true, "scripted", new StepUsage(20, 5, 1)));
    }

    private sealed class Scripted<TInput, TOutput>(
        ScriptedActivities script, ActivityDefinition<TInput, TOutput> definition, Func<TInput, TaskRunContext, TOutput> answer)
        : TaskActivity<TInput, TOutput>(definition)
    {
        protected override async Task<TOutput> RunAsync(TInput input, TaskRunContext run, CancellationToken cancellationToken)
        {
            script.Runs.AddOrUpdate(run.StepKey, 1, (_, n) => n + 1);
            if (script.Hang.ContainsKey(run.StepKey))
            {
                script.HangStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (script.Fail.ContainsKey(run.StepKey))
            {
                throw new InvalidOperationException($"{run.StepKey} is scripted to fail");
            }

            return answer(input, run);
        }
    }
}
