namespace AgentPlatform.Orchestration;

/// <summary>
/// The activities of the macro flow, by name. The names are the contract between the flow and the runners'
/// activity hosts (the embedded runner's dispatcher, the Temporal worker's activity registrations).
/// </summary>
public static class TaskActivities
{
    private static readonly StepPolicy Quick = new(TimeSpan.FromSeconds(30), MaxAttempts: 5, InitialBackoff: TimeSpan.FromMilliseconds(200));
    private static readonly StepPolicy ModelCall = new(TimeSpan.FromMinutes(2), MaxAttempts: 3, InitialBackoff: TimeSpan.FromSeconds(1));

    /// <summary>Reads the input (claim check included) and fits it to the task's context budget.</summary>
    public static readonly ActivityDefinition<TaskFlowInput, PreparedTask> Prepare = new("prepare", ModelCall);

    /// <summary>The Main Agent decomposes the task into subtasks (a structured-output model call).</summary>
    public static readonly ActivityDefinition<PlanInput, TaskPlan> Plan = new("plan", ModelCall);

    /// <summary>The router assigns each subtask a sub-agent.</summary>
    public static readonly ActivityDefinition<RouteInput, RoutingDecision> Route = new("route", ModelCall);

    /// <summary>One sub-agent runs one subtask (its micro graph runs inside this activity).</summary>
    public static readonly ActivityDefinition<SubAgentInput, SubAgentResult> RunSubAgent =
        new("run-sub-agent", new StepPolicy(TimeSpan.FromMinutes(5), MaxAttempts: 2, InitialBackoff: TimeSpan.FromSeconds(1)));

    /// <summary>The Main Agent combines the sub-agents' results into the answer.</summary>
    public static readonly ActivityDefinition<AggregateInput, AggregateResult> Aggregate = new("aggregate", ModelCall);

    /// <summary>The judge scores the answer against the task.</summary>
    public static readonly ActivityDefinition<JudgeInput, Judgement> Judge = new("judge", ModelCall);

    /// <summary>Stores the result and marks the task completed.</summary>
    public static readonly ActivityDefinition<CompleteInput, Done> Complete = new("complete", Quick);

    /// <summary>Marks the task failed.</summary>
    public static readonly ActivityDefinition<FailInput, Done> Fail = new("fail", Quick, RunsAfterCancellation: true);

    /// <summary>Marks the task cancelled.</summary>
    public static readonly ActivityDefinition<CancelInput, Done> Cancel = new("cancel", Quick, RunsAfterCancellation: true);
}
