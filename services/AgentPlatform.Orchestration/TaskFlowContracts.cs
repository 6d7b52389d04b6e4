namespace AgentPlatform.Orchestration;

// The records the macro flow and its activities exchange. They travel serialized (workflow history, the
// embedded journal), so each stays small: content above the claim-check threshold travels as a reference.

/// <summary>What a task run starts from; everything else the activities read from the task itself.</summary>
public sealed record TaskFlowInput(
    Guid TaskId,
    string TenantId,
    string MainAgentId,
    string TraceId,
    string SubmittedBy,
    string? ChargedUserId,
    IReadOnlyList<string> SubAgentHints,
    int? TokenBudget);

/// <summary>
/// Content that is inline when small and a claim-check reference when not: exactly one of <see cref="Inline"/>
/// and <see cref="RefId"/> is set.
/// </summary>
public sealed record ClaimedContent(string? Inline, string? RefId, long Size, string ContentType)
{
    public bool IsReference => RefId is not null;
}

/// <summary>Tokens and cost a step spent on model calls.</summary>
public sealed record StepUsage(long InputTokens, long OutputTokens, long CostMicros)
{
    public static readonly StepUsage None = new(0, 0, 0);

    public StepUsage Add(StepUsage other) => new(InputTokens + other.InputTokens, OutputTokens + other.OutputTokens, CostMicros + other.CostMicros);
}

/// <summary>An activity output that spent model tokens; the journal records them per step.</summary>
public interface IReportsUsage
{
    StepUsage Usage { get; }
}

/// <summary>The task's input, resolved from its claim check and fitted to the task's context budget.</summary>
public sealed record PreparedTask(ClaimedContent Context, int InputTokens, int ContextTokens, bool Trimmed, StepUsage Usage) : IReportsUsage;

public sealed record PlanInput(TaskFlowInput Task, PreparedTask Prepared);

public sealed record PlannedSubtask(int Id, string Description, string Domain, IReadOnlyList<int> DependsOn);

public sealed record TaskPlan(string Goal, IReadOnlyList<PlannedSubtask> Subtasks, string Summary, StepUsage Usage) : IReportsUsage;

public sealed record RouteInput(TaskFlowInput Task, TaskPlan Plan);

public sealed record SubtaskAssignment(int SubtaskId, string SubAgentId, double Confidence, string Reason);

public sealed record RoutingDecision(IReadOnlyList<SubtaskAssignment> Assignments, StepUsage Usage) : IReportsUsage;

/// <summary>One sub-agent run: its subtask, the task's context and the results of the subtasks it depends on.</summary>
public sealed record SubAgentInput(
    TaskFlowInput Task,
    PreparedTask Prepared,
    PlannedSubtask Subtask,
    SubtaskAssignment Assignment,
    IReadOnlyList<SubAgentResult> Dependencies);

public sealed record Citation(string Source, string Title, string? Excerpt);

public static class SubAgentStatuses
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

public sealed record SubAgentResult(
    int SubtaskId,
    string SubAgentId,
    string Status,
    ClaimedContent? Output,
    IReadOnlyList<Citation> Citations,
    string? Error,
    StepUsage Usage) : IReportsUsage
{
    public bool Succeeded => Status == SubAgentStatuses.Succeeded;
}

public sealed record AggregateInput(TaskFlowInput Task, TaskPlan Plan, IReadOnlyList<SubAgentResult> Results);

public sealed record AggregateResult(ClaimedContent Answer, IReadOnlyList<string> Sources, StepUsage Usage) : IReportsUsage;

public sealed record JudgeInput(TaskFlowInput Task, PreparedTask Prepared, AggregateResult Result);

public sealed record Judgement(double Score, bool Passed, string Reason, StepUsage Usage) : IReportsUsage;

public sealed record CompleteInput(TaskFlowInput Task, AggregateResult Result, Judgement Judgement, int SubAgentsFailed);

public sealed record FailInput(TaskFlowInput Task, string Code, string Message);

public sealed record CancelInput(TaskFlowInput Task);

/// <summary>The task's final state as the flow ended it.</summary>
public sealed record TaskFlowOutcome(string Status, string? ErrorCode = null);

/// <summary>An activity that produced nothing worth returning.</summary>
public sealed record Done(bool Ok = true);
