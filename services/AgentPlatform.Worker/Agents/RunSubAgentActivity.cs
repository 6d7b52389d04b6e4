using System.Collections.Concurrent;
using System.Diagnostics;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tasks;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// Runs one subtask on its sub-agent, bounded per tenant across this worker's tasks (one tenant's burst cannot
/// take every model call slot). The output goes by claim check when large; a sub-agent the Worker does not know
/// fails the step (the flow aggregates without it).
/// </summary>
public sealed class RunSubAgentActivity(
    IServiceScopeFactory scopeFactory,
    SubAgentCatalog catalog,
    SubAgentGraph graph,
    IOptionsMonitor<TaskRunnerOptions> options,
    IOptionsMonitor<AgentModelOptions> models) : TaskActivity<SubAgentInput, SubAgentResult>(TaskActivities.RunSubAgent)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> perTenant = new(StringComparer.Ordinal);

    protected override async Task<SubAgentResult> RunAsync(SubAgentInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var task = input.Task;
        var subAgent = catalog.Find(input.Assignment.SubAgentId)
            ?? throw new InvalidOperationException($"The sub-agent '{input.Assignment.SubAgentId}' is not available.");
        var subAgentId = $"{subAgent.Id}@{subAgent.Version}";
        Activity.Current?.SetTag(PlatformTags.SubAgentId, subAgentId);

        await using var scope = TenantWork.Begin(scopeFactory, task.TenantId);
        var content = scope.ServiceProvider.GetRequiredService<TaskContent>();
        var context = await content.ReadAsync(input.Prepared.Context, cancellationToken);
        var dependencies = new List<SubAgentOutputText>();
        foreach (var dependency in input.Dependencies.Where(d => d.Succeeded && d.Output is not null))
        {
            dependencies.Add(new SubAgentOutputText(dependency.SubAgentId, dependency.SubtaskId, await content.ReadAsync(dependency.Output!, cancellationToken)));
        }

        var gate = perTenant.GetOrAdd(task.TenantId, _ => new SemaphoreSlim(options.CurrentValue.MaxConcurrentSubAgentsPerTenant));
        await gate.WaitAsync(cancellationToken);
        SubAgentAnswer answer;
        SubAgentGraphResult graphRun;
        long cost;
        try
        {
            using var calls = ModelCallScope.Begin(task.TenantId, task.ChargedUserId, task.TaskId, task.MainAgentId, subAgentId);
            var prepared = await subAgent.PrepareAsync(new SubAgentRequest(task, input.Subtask, context, dependencies), cancellationToken);
            graphRun = await graph.RunAsync(new SubAgentGraphInput(subAgent.Spec, prepared.Messages, prepared.Tools, models.CurrentValue.MaxOutputTokens), cancellationToken);
            answer = subAgent.Interpret(graphRun.Output, prepared);
            cost = calls.CostMicros;
        }
        finally
        {
            gate.Release();
        }

        Activity.Current?.SetTag("agentplatform.tool_calls", graphRun.ToolCalls).SetTag("agentplatform.repairs", graphRun.Repairs);
        var output = await content.StoreAsync(answer.Text, "text/plain", cancellationToken);
        return new SubAgentResult(input.Subtask.Id, subAgent.Id, SubAgentStatuses.Succeeded, output, answer.Citations, null,
            new StepUsage(graphRun.InputTokens, graphRun.OutputTokens, cost));
    }
}
