using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Tasks;

namespace AgentPlatform.Worker.Tasks;

/// <summary>
/// The main chain's metrics (meter <see cref="MeterName"/>): tasks ended and their duration by status, sub-agent
/// runs and their duration by sub-agent and status (success rates are ratios of these counters), and the tokens
/// and cost of every journaled step by activity. Recorded where the state is committed — a journaled step, a task's
/// end — so each is counted once whichever runner ran it.
/// </summary>
public static class TaskMetrics
{
    public const string MeterName = "AgentPlatform.Worker.Tasks";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> TasksEnded =
        Meter.CreateCounter<long>("agentplatform.tasks.ended", "{task}", "Tasks that ended, by status (completed, failed, cancelled).");

    private static readonly Histogram<double> TaskDuration =
        Meter.CreateHistogram<double>("agentplatform.task.duration", "s", "From a task's submission to its end, by status.");

    private static readonly Counter<long> SubAgentRuns =
        Meter.CreateCounter<long>("agentplatform.sub_agent.runs", "{run}", "Sub-agent steps journaled, by sub-agent and status (succeeded, failed).");

    private static readonly Histogram<double> SubAgentDuration =
        Meter.CreateHistogram<double>("agentplatform.sub_agent.duration", "s", "A sub-agent step from its first attempt to its journal entry.");

    private static readonly Counter<long> Tokens =
        Meter.CreateCounter<long>("agentplatform.task.tokens", "{token}", "Model tokens of journaled steps, by activity and direction (input, output).");

    private static readonly Counter<long> Cost =
        Meter.CreateCounter<long>("agentplatform.task.cost", "{micro-unit}", "Model cost of journaled steps in micro-units of the platform currency, by activity.");

    public static void TaskEnded(AgentTask task)
    {
        var tags = new TagList { { PlatformTags.TenantId, task.TenantId }, { "status", task.Status } };
        TasksEnded.Add(1, tags);
        if (task.CompletedAt is { } completedAt)
        {
            TaskDuration.Record((completedAt - task.CreatedAt).TotalSeconds, tags);
        }
    }

    public static void StepJournaled(TaskStep step)
    {
        var activity = new KeyValuePair<string, object?>("activity", step.Activity);
        Tokens.Add(step.InputTokens, activity, new("direction", "input"));
        Tokens.Add(step.OutputTokens, activity, new("direction", "output"));
        Cost.Add(step.CostMicros, activity);
        if (step.SubAgentId is { } subAgent)
        {
            var tags = new TagList { { PlatformTags.SubAgentId, subAgent }, { "status", step.Status } };
            SubAgentRuns.Add(1, tags);
            SubAgentDuration.Record((step.CompletedAt - step.StartedAt).TotalSeconds, tags);
        }
    }
}
