using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tasks;

namespace AgentPlatform.Worker.Agents;

/// <summary>The Main Agent decomposes the task into subtasks with a structured-output model call.</summary>
public sealed class PlanActivity(IServiceScopeFactory scopeFactory, StructuredModelCall model, SubAgentCatalog catalog)
    : TaskActivity<PlanInput, TaskPlan>(TaskActivities.Plan)
{
    public const int MaxSubtasks = 8;

    protected override async Task<TaskPlan> RunAsync(PlanInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var task = input.Task;
        await using var scope = TenantWork.Begin(scopeFactory, task.TenantId);
        var context = await scope.ServiceProvider.GetRequiredService<TaskContent>().ReadAsync(input.Prepared.Context, cancellationToken);
        using var calls = ModelCallScope.Begin(task.TenantId, task.ChargedUserId, task.TaskId, task.MainAgentId);
        var answer = await model.GetAsync<PlanAnswer>(
            $"""
            [agentplatform:plan] You are the Main Agent of an enterprise agent platform. Break the user's task into at most {MaxSubtasks} subtasks
            that sub-agents can do independently or in order. Give each an id (1, 2, …), a one-sentence description, the domain
            (the id of the sub-agent best suited) and the ids of earlier subtasks whose results it needs (dependsOn).
            Sub-agents:
            {SubAgentCatalog.Lines(catalog.CandidatesFor(task.SubAgentHints))}
            """,
            $"Task:\n{context}",
            Validate,
            cancellationToken);
        var subtasks = Normalize(answer.Value.Subtasks);
        return new TaskPlan(answer.Value.Goal ?? "", subtasks, answer.Value.Summary ?? "", new StepUsage(answer.InputTokens, answer.OutputTokens, calls.CostMicros));
    }

    private static string? Validate(PlanAnswer plan) =>
        plan.Subtasks is not { Count: > 0 } ? "'subtasks' is empty."
        : plan.Subtasks.Count > MaxSubtasks ? $"'subtasks' has more than {MaxSubtasks} items."
        : plan.Subtasks.Any(s => string.IsNullOrWhiteSpace(s.Description)) ? "Every subtask needs a 'description'."
        : null;

    // Ids become 1..n in plan order; a dependency may only name an earlier subtask.
    private static List<PlannedSubtask> Normalize(List<PlanAnswerStep> steps)
    {
        var ids = steps.Select((s, i) => (s.Id, New: i + 1)).GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First().New);
        return steps.Select((s, i) => new PlannedSubtask(
            i + 1,
            s.Description.Trim(),
            string.IsNullOrWhiteSpace(s.Domain) ? "general" : s.Domain.Trim(),
            (s.DependsOn ?? []).Where(ids.ContainsKey).Select(d => ids[d]).Where(d => d < i + 1).Distinct().Order().ToList())).ToList();
    }

    public sealed record PlanAnswer(string? Goal, List<PlanAnswerStep> Subtasks, string? Summary);

    public sealed record PlanAnswerStep(int Id, string Description, string? Domain, List<int>? DependsOn);
}

/// <summary>The router gives each subtask the sub-agent that fits it best, among those the task may use.</summary>
public sealed class RouteActivity(StructuredModelCall model, SubAgentCatalog catalog) : TaskActivity<RouteInput, RoutingDecision>(TaskActivities.Route)
{
    protected override async Task<RoutingDecision> RunAsync(RouteInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var task = input.Task;
        var candidates = catalog.CandidatesFor(task.SubAgentHints);
        var ids = candidates.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        using var calls = ModelCallScope.Begin(task.TenantId, task.ChargedUserId, task.TaskId, task.MainAgentId);
        var answer = await model.GetAsync<RouteAnswer>(
            $"""
            [agentplatform:route] You route subtasks to sub-agents. For each numbered subtask choose the one sub-agent below that
            fits it best; give your confidence (0 to 1) and a short reason.
            Sub-agents:
            {SubAgentCatalog.Lines(candidates)}
            """,
            "Subtasks:\n" + string.Join('\n', input.Plan.Subtasks.Select(s => $"{s.Id}. {s.Description}")),
            routes => routes.Routes?.FirstOrDefault(r => !ids.Contains(r.AgentId)) is { } unknown
                ? $"'{unknown.AgentId}' is not one of the sub-agents: {string.Join(", ", ids)}."
                : null,
            cancellationToken);
        var fallback = ids.Contains(BuiltInSubAgents.Analysis) ? BuiltInSubAgents.Analysis : candidates[0].Id;
        var assignments = input.Plan.Subtasks.Select(subtask =>
            answer.Value.Routes?.FirstOrDefault(r => r.SubtaskId == subtask.Id) is { } route
                ? new SubtaskAssignment(subtask.Id, route.AgentId, Math.Clamp(route.Confidence, 0, 1), route.Reason ?? "")
                : new SubtaskAssignment(subtask.Id, fallback, 0, "The router did not route this subtask; the default sub-agent takes it.")).ToList();
        return new RoutingDecision(assignments, new StepUsage(answer.InputTokens, answer.OutputTokens, calls.CostMicros));
    }

    public sealed record RouteAnswer(List<RouteAnswerItem>? Routes);

    public sealed record RouteAnswerItem(int SubtaskId, string AgentId, double Confidence, string? Reason);
}

/// <summary>The Main Agent combines the sub-agents' results into one answer.</summary>
public sealed class AggregateActivity(IServiceScopeFactory scopeFactory, StructuredModelCall model)
    : TaskActivity<AggregateInput, AggregateResult>(TaskActivities.Aggregate)
{
    // Characters of one sub-agent's output the aggregation prompt carries.
    private const int MaxResultChars = 4000;

    protected override async Task<AggregateResult> RunAsync(AggregateInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var task = input.Task;
        await using var scope = TenantWork.Begin(scopeFactory, task.TenantId);
        var content = scope.ServiceProvider.GetRequiredService<TaskContent>();
        var lines = new List<string>();
        foreach (var result in input.Results.Where(r => r.Succeeded && r.Output is not null))
        {
            var text = await content.ReadAsync(result.Output!, cancellationToken);
            lines.Add($"- {result.SubAgentId}-{result.SubtaskId}: {Flatten(text, MaxResultChars)}");
        }

        using var calls = ModelCallScope.Begin(task.TenantId, task.ChargedUserId, task.TaskId, task.MainAgentId);
        var answer = await model.GetAsync<AggregateAnswer>(
            "[agentplatform:aggregate] You are the Main Agent. Combine the sub-agents' results below into one complete answer to the task, and list the sources you used (their ids).",
            $"Task: {input.Plan.Goal}\nResults:\n{string.Join('\n', lines)}",
            a => string.IsNullOrWhiteSpace(a.Summary) ? "'summary' is empty." : null,
            cancellationToken);
        var stored = await content.StoreAsync(answer.Value.Summary, "text/plain", cancellationToken);
        return new AggregateResult(stored, answer.Value.Sources ?? [], new StepUsage(answer.InputTokens, answer.OutputTokens, calls.CostMicros));
    }

    private static string Flatten(string text, int max)
    {
        var flat = string.Join(' ', text.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return flat.Length <= max ? flat : flat[..max] + "…";
    }

    public sealed record AggregateAnswer(string Summary, List<string>? Sources);
}

/// <summary>The judge scores the answer against the task (0 to 1) and says whether it passes.</summary>
public sealed class JudgeActivity(IServiceScopeFactory scopeFactory, StructuredModelCall model) : TaskActivity<JudgeInput, Judgement>(TaskActivities.Judge)
{
    private const int MaxChars = 8000;

    protected override async Task<Judgement> RunAsync(JudgeInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        var task = input.Task;
        await using var scope = TenantWork.Begin(scopeFactory, task.TenantId);
        var content = scope.ServiceProvider.GetRequiredService<TaskContent>();
        var question = await content.ReadAsync(input.Prepared.Context, cancellationToken);
        var answerText = await content.ReadAsync(input.Result.Answer, cancellationToken);
        using var calls = ModelCallScope.Begin(task.TenantId, task.ChargedUserId, task.TaskId, task.MainAgentId);
        var verdict = await model.GetAsync<JudgeAnswer>(
            "[agentplatform:judge] You judge answers. Score how well the answer fulfils the question from 0 (not at all) to 1 (fully), say whether it passes (score at least 0.5), and why in one sentence.",
            $"Question: {Cut(question)}\nAnswer: {Cut(answerText)}",
            j => j.Score is < 0 or > 1 ? "'score' must be between 0 and 1." : null,
            cancellationToken);
        return new Judgement(verdict.Value.Score, verdict.Value.Passed, verdict.Value.Reason ?? "",
            new StepUsage(verdict.InputTokens, verdict.OutputTokens, calls.CostMicros));
    }

    private static string Cut(string text) => text.Length <= MaxChars ? text : text[..MaxChars] + "…";

    public sealed record JudgeAnswer(double Score, bool Passed, string? Reason);
}
