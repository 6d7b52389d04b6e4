using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Worker.Tasks;

/// <summary>How the Worker runs tasks (section <c>TaskRunner</c>).</summary>
public sealed class TaskRunnerOptions : IValidatableObject
{
    public const string SectionName = "TaskRunner";

    public const string Embedded = "embedded";

    public const string Temporal = "temporal";

    /// <summary>The Temporal task queue of the task workflows and their activities.</summary>
    public const string TemporalTaskQueue = "agentplatform-tasks";

    /// <summary>
    /// <c>embedded</c>: leases and a journal in the relational store. <c>temporal</c>: a Temporal workflow per task
    /// (<see cref="TemporalAddress"/>), the journal still written for the API.
    /// </summary>
    [Required, AllowedValues(Embedded, Temporal)]
    public string Runner { get; set; } = Embedded;

    /// <summary>
    /// Temporal's frontend (<c>host:port</c>) for the <c>temporal</c> runner; unset, the connection string
    /// <c>ConnectionStrings:temporal</c>, which the AppHost's distributed topology provides.
    /// </summary>
    public string? TemporalAddress { get; set; }

    /// <summary>The Temporal namespace of the task workflows.</summary>
    [Required]
    public string TemporalNamespace { get; set; } = "default";

    /// <summary>How many times a task may be started or resumed before it is failed (a task that crashes its runner).</summary>
    [Range(1, 100)]
    public int MaxRuns { get; set; } = 5;

    /// <summary>
    /// How long a claimed task stays this worker's without a renewal; a dead worker's tasks move on after it. The
    /// Temporal runner's starter claims a queued task for this long while it starts the task's workflow.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "00:10:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker looks for tasks to claim (and the Temporal runner for cancellation requests).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Tasks one worker runs at the same time.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentTasks { get; set; } = 32;

    /// <summary>Sub-agent runs of one tenant at the same time in one worker, across its tasks.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentSubAgentsPerTenant { get; set; } = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Runner == Temporal && string.IsNullOrWhiteSpace(TemporalAddress))
        {
            yield return new ValidationResult(
                "TaskRunner:Runner is 'temporal' but no Temporal address is configured: set ConnectionStrings:temporal (the AppHost's "
                + "distributed topology does) or TaskRunner:TemporalAddress to the Temporal frontend's host:port, or use the 'embedded' runner.",
                [nameof(TemporalAddress)]);
        }
    }
}
