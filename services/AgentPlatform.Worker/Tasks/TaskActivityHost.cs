using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Orchestration;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tasks;

/// <summary>One activity of the macro flow, as the runners call it: serialized input in, serialized output out.</summary>
public interface ITaskActivity
{
    string Name { get; }

    Task<string> RunAsync(string input, TaskRunContext run, CancellationToken cancellationToken);
}

/// <summary>The task an activity runs for, and the step (<c>plan</c>, <c>sub-agent/2</c> …) it runs as.</summary>
public sealed record TaskRunContext(TaskFlowInput Task, string StepKey, int Attempt);

/// <summary>
/// An activity over typed records: the host deserializes its input and serializes its output with
/// <see cref="TaskFlowJson.Options"/>, so the embedded runner and Temporal see the same bytes.
/// </summary>
public abstract class TaskActivity<TInput, TOutput>(ActivityDefinition<TInput, TOutput> definition) : ITaskActivity
{
    public string Name => definition.Name;

    public async Task<string> RunAsync(string input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var typed = JsonSerializer.Deserialize<TInput>(input, TaskFlowJson.Options)
            ?? throw new InvalidOperationException($"The input of activity '{Name}' is empty.");
        var output = await RunAsync(typed, run, cancellationToken);
        return JsonSerializer.Serialize(output, TaskFlowJson.Options);
    }

    protected abstract Task<TOutput> RunAsync(TInput input, TaskRunContext run, CancellationToken cancellationToken);
}

/// <summary>
/// Dispatches activities by name for the runners and enforces the claim check on both sides of every step: an
/// input or output above the threshold never reaches the journal or workflow history.
/// </summary>
public sealed class TaskActivityHost
{
    private readonly Dictionary<string, ITaskActivity> activities;
    private readonly IOptionsMonitor<ClaimCheckOptions> claimCheck;

    public TaskActivityHost(IEnumerable<ITaskActivity> activities, IOptionsMonitor<ClaimCheckOptions> claimCheck)
    {
        this.activities = activities.ToDictionary(a => a.Name, StringComparer.Ordinal);
        this.claimCheck = claimCheck;
    }

    public static ActivitySource Source { get; } = new("AgentPlatform.Worker.Tasks");

    public async Task<string> RunAsync(string activity, string input, TaskRunContext run, CancellationToken cancellationToken)
    {
        if (!activities.TryGetValue(activity, out var handler))
        {
            throw new InvalidOperationException($"No activity is named '{activity}'.");
        }

        EnsureInline($"The input of step '{run.StepKey}'", input);
        using var span = Source.StartActivity($"activity {activity}");
        span?.SetTag(PlatformTags.TenantId, run.Task.TenantId)
            .SetTag(PlatformTags.TaskId, run.Task.TaskId.ToString())
            .SetTag(PlatformTags.MainAgentId, run.Task.MainAgentId)
            .SetTag("agentplatform.step", run.StepKey)
            .SetTag("agentplatform.attempt", run.Attempt);
        try
        {
            var output = await handler.RunAsync(input, run, cancellationToken);
            EnsureInline($"The output of step '{run.StepKey}'", output);
            return output;
        }
        catch (Exception exception)
        {
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }
    }

    /// <summary>Throws <see cref="PayloadTooLargeException"/> when <paramref name="json"/> is above the claim-check threshold.</summary>
    public void EnsureInline(string where, string json)
    {
        var threshold = claimCheck.CurrentValue.InlineThresholdBytes;
        var size = Encoding.UTF8.GetByteCount(json);
        if (size > threshold)
        {
            throw new PayloadTooLargeException(where, size, threshold);
        }
    }
}
