using System.Text;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.Orchestration;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Agents;

/// <summary>
/// The Context Optimizer's first pass: reads the task's input (from the claim check when it was large) and fits it
/// to the context budget. Over budget, the oldest text is dropped first (FIFO) and replaced by a model-written
/// summary of what was dropped, so the Main Agent still knows it was there. Tokens before and after are recorded.
/// </summary>
public sealed class PrepareActivity(
    IServiceScopeFactory scopeFactory,
    ITokenEstimator tokens,
    StructuredModelCall model,
    IOptionsMonitor<AgentModelOptions> options) : TaskActivity<TaskFlowInput, PreparedTask>(TaskActivities.Prepare)
{
    // Room the summary of dropped text takes in the budget.
    private const int SummaryAllowance = 512;

    protected override async Task<PreparedTask> RunAsync(TaskFlowInput input, TaskRunContext run, CancellationToken cancellationToken)
    {
        await using var scope = TenantWork.Begin(scopeFactory, input.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var content = scope.ServiceProvider.GetRequiredService<TaskContent>();
        var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == input.TaskId, cancellationToken);
        var original = new ClaimedContent(task.Input, task.InputRefId, task.InputSize, task.InputContentType);
        var text = await content.ReadAsync(original, cancellationToken);
        var inputTokens = tokens.CountTokens(text);
        var budget = Math.Min(options.CurrentValue.ContextTokenBudget, input.TokenBudget ?? int.MaxValue);
        if (inputTokens <= budget)
        {
            var context = !original.IsReference && Encoding.UTF8.GetByteCount(text) > content.InlineLimit
                ? await content.StoreAsync(text, task.InputContentType, cancellationToken)
                : original;
            return new PreparedTask(context, inputTokens, inputTokens, Trimmed: false, StepUsage.None);
        }

        var (dropped, kept) = TrimOldestFirst(text, Math.Max(budget - SummaryAllowance, budget / 2));
        using var calls = ModelCallScope.Begin(input.TenantId, input.ChargedUserId, input.TaskId, input.MainAgentId);
        var summary = await model.GetAsync<TextAnswer>(
            "[agentplatform:answer] You condense text for an agent that cannot read all of it. Summarise the text below in at most 150 words, keeping names, numbers and decisions.",
            $"Question: Summarise the earlier part of the task input.\nContext:\n{tokens.Fit(dropped, options.CurrentValue.SummaryInputTokenBudget)}",
            answer => string.IsNullOrWhiteSpace(answer.Answer) ? "'answer' is empty." : null,
            cancellationToken);
        var optimized = $"[Summary of the first {tokens.CountTokens(dropped)} tokens of the input, which did not fit the context]\n{summary.Value.Answer}\n\n[The rest of the input]\n{kept}";
        var stored = await content.StoreAsync(optimized, "text/plain", cancellationToken);
        return new PreparedTask(stored, inputTokens, tokens.CountTokens(optimized), Trimmed: true,
            new StepUsage(summary.InputTokens, summary.OutputTokens, calls.CostMicros));
    }

    // Keeps the newest lines that fit; what is dropped is the oldest, in order.
    private (string Dropped, string Kept) TrimOldestFirst(string text, int keepTokens)
    {
        var lines = text.Split('\n');
        var kept = 0;
        var first = lines.Length;
        while (first > 0)
        {
            var cost = tokens.CountTokens(lines[first - 1]) + 1;
            if (kept + cost > keepTokens)
            {
                break;
            }

            kept += cost;
            first--;
        }

        if (first == lines.Length)
        {
            // One line longer than the budget: keep its end.
            var last = lines[^1];
            var tail = last[^Math.Min(last.Length, keepTokens * 3)..];
            return (text[..^tail.Length], tail);
        }

        return (string.Join('\n', lines[..first]), string.Join('\n', lines[first..]));
    }
}

/// <summary>A plain answer, the shape of the platform's <c>answer</c> prompts.</summary>
public sealed record TextAnswer(string Answer, double Confidence);
