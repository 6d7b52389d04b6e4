using AgentPlatform.Domain.Models;
using System.Globalization;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Models;

/// <summary>
/// Model budgets and usage reports. Budgets live in the database; what was spent lives in the counters port,
/// where the model gateway reserves and settles every call (<see cref="ModelBudgetKeys"/>).
/// </summary>
public static class ModelGovernanceApi
{
    public const string GroupByDay = "day";
    public const string GroupByModel = "model";
    public const string GroupByApiKey = "apiKey";
    public const string GroupByUser = "user";

    private const string OkOutcome = "ok";

    private static readonly string[] Groupings = [GroupByDay, GroupByModel, GroupByApiKey, GroupByUser];

    public static IEndpointRouteBuilder MapModelGovernanceApi(this IEndpointRouteBuilder endpoints)
    {
        var budgets = endpoints.MapGroup("/api/model-budgets").WithTags("Model governance").RequirePermission(Permissions.ModelsManage);
        budgets.MapGet("/", ListBudgetsAsync);
        budgets.MapGet("/{id:guid}", GetBudgetAsync);
        budgets.MapGet("/{id:guid}/status", GetBudgetStatusAsync);
        budgets.MapPost("/", CreateBudgetAsync);
        budgets.MapPut("/{id:guid}", UpdateBudgetAsync);
        budgets.MapDelete("/{id:guid}", DeleteBudgetAsync);

        var usage = endpoints.MapGroup("/api/model-usage").WithTags("Model governance").RequirePermission(Permissions.ModelsManage);
        usage.MapGet("/", GetUsageAsync);
        usage.MapGet("/calls", ListCallsAsync);
        return endpoints;
    }

    public static async Task<Results<Ok<PagedResult<ModelBudgetResponse>>, ValidationProblem>> ListBudgetsAsync(
        [AsParameters] PageQuery page, [AsParameters] ModelBudgetQuery query, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var budgets = db.ModelBudgets.AsNoTracking();
        if (query.Scope is { } scope)
        {
            if (!ModelBudgetKeys.Scopes.Contains(scope))
            {
                return Problems.Invalid("scope", $"The scope is one of {string.Join(", ", ModelBudgetKeys.Scopes)}.");
            }

            budgets = budgets.Where(b => b.Scope == scope);
        }

        return TypedResults.Ok(await budgets.OrderBy(b => b.Scope).ThenBy(b => b.SubjectId).ThenBy(b => b.Period)
            .ToPagedResultAsync(page, ModelBudgetResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<ModelBudgetResponse>, ProblemHttpResult>> GetBudgetAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.ModelBudgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id, cancellationToken) is { } budget
            ? TypedResults.Ok(ModelBudgetResponse.From(budget))
            : Problems.NotFound("The model budget");

    public static async Task<Results<Ok<ModelBudgetStatusResponse>, ProblemHttpResult>> GetBudgetStatusAsync(
        Guid id, AgentPlatformDbContext db, ICounterStore counters, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var budget = await db.ModelBudgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (budget is null)
        {
            return Problems.NotFound("The model budget");
        }

        var now = timeProvider.GetUtcNow();
        var spent = await counters.GetCountAsync(
            ModelBudgetKeys.SpentKey(budget.TenantId, budget.Scope, budget.SubjectId, budget.Period, now), cancellationToken);
        return TypedResults.Ok(new ModelBudgetStatusResponse(
            budget.LimitMicros,
            spent,
            Math.Max(0, budget.LimitMicros - spent),
            ModelBudgetKeys.PeriodStart(budget.Period, now),
            ModelBudgetKeys.PeriodEnd(budget.Period, now)));
    }

    public static async Task<Results<Created<ModelBudgetResponse>, ValidationProblem, ProblemHttpResult>> CreateBudgetAsync(
        CreateModelBudgetRequest request,
        HttpContext context,
        AgentPlatformDbContext db,
        AuditTrail auditTrail,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var tenantId = context.User.GetTenantId()!;
        if (!ModelBudgetKeys.Scopes.Contains(request.Scope))
        {
            return Problems.Invalid("scope", $"The scope is one of {string.Join(", ", ModelBudgetKeys.Scopes)}.");
        }

        if (!ModelBudgetKeys.Periods.Contains(request.Period))
        {
            return Problems.Invalid("period", $"The period is one of {string.Join(", ", ModelBudgetKeys.Periods)}.");
        }

        var subjectId = request.Scope == ModelBudgetKeys.TenantScope ? tenantId : await FindSubjectAsync(request.Scope, request.SubjectId, db, cancellationToken);
        if (subjectId is null)
        {
            return Problems.Invalid("subjectId", request.Scope == ModelBudgetKeys.UserScope
                ? "There is no such user in this tenant."
                : "There is no such API key in this tenant.");
        }

        if (await db.ModelBudgets.AnyAsync(b => b.Scope == request.Scope && b.SubjectId == subjectId && b.Period == request.Period, cancellationToken))
        {
            return Problems.Conflict($"A {request.Period} budget for this {request.Scope} exists already; change its limit instead.");
        }

        var now = timeProvider.GetUtcNow();
        var budget = new ModelBudget
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenantId,
            Scope = request.Scope,
            SubjectId = subjectId,
            LimitMicros = request.LimitMicros,
            Period = request.Period,
            CreatedAt = now.UtcDateTime,
            UpdatedAt = now.UtcDateTime,
        };
        db.ModelBudgets.Add(budget);
        try
        {
            await auditTrail.SaveChangesAsync(
                new AuditEntry("model-budget.created", "model-budget", budget.Id.ToString()) { After = Audited(budget) }, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent request created the same budget between the check and the insert (the unique index caught it).
            if (await db.ModelBudgets.AsNoTracking().AnyAsync(
                b => b.Scope == budget.Scope && b.SubjectId == budget.SubjectId && b.Period == budget.Period && b.Id != budget.Id, cancellationToken))
            {
                return Problems.Conflict($"A {request.Period} budget for this {request.Scope} exists already; change its limit instead.");
            }

            throw;
        }

        return TypedResults.Created($"/api/model-budgets/{budget.Id}", ModelBudgetResponse.From(budget));
    }

    public static async Task<Results<Ok<ModelBudgetResponse>, ProblemHttpResult>> UpdateBudgetAsync(
        Guid id, UpdateModelBudgetRequest request, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var budget = await db.ModelBudgets.SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (budget is null)
        {
            return Problems.NotFound("The model budget");
        }

        var before = Audited(budget);
        budget.LimitMicros = request.LimitMicros;
        budget.UpdatedAt = timeProvider.GetUtcNow().UtcDateTime;
        await auditTrail.SaveChangesAsync(
            new AuditEntry("model-budget.updated", "model-budget", budget.Id.ToString()) { Before = before, After = Audited(budget) }, cancellationToken);
        return TypedResults.Ok(ModelBudgetResponse.From(budget));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteBudgetAsync(
        Guid id, AgentPlatformDbContext db, AuditTrail auditTrail, CancellationToken cancellationToken)
    {
        var budget = await db.ModelBudgets.SingleOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (budget is null)
        {
            return Problems.NotFound("The model budget");
        }

        db.ModelBudgets.Remove(budget);
        await auditTrail.SaveChangesAsync(
            new AuditEntry("model-budget.deleted", "model-budget", budget.Id.ToString()) { Before = Audited(budget) }, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Usage totals per day, model, API key or user over whole UTC days (default: the last 30).</summary>
    public static async Task<Results<Ok<ModelUsageReport>, ValidationProblem>> GetUsageAsync(
        [AsParameters] ModelUsageQuery query, string? groupBy, AgentPlatformDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        groupBy ??= GroupByDay;
        if (!Groupings.Contains(groupBy, StringComparer.Ordinal))
        {
            return Problems.Invalid("groupBy", $"Group by one of {string.Join(", ", Groupings)}.");
        }

        var (from, to, invalid) = Range(query, timeProvider);
        if (invalid is not null)
        {
            return invalid;
        }

        var usage = Filter(db.ModelUsage.AsNoTracking(), query, from, to);
        List<ModelUsageAggregate> items = groupBy switch
        {
            GroupByDay => [.. (await Aggregate(usage.GroupBy(u => u.Day)).ToListAsync(cancellationToken)).Select(ToAggregate)],
            GroupByModel => [.. (await Aggregate(usage.GroupBy(u => u.ModelRequested)).ToListAsync(cancellationToken)).Select(ToAggregate)],
            GroupByApiKey => [.. (await Aggregate(usage.GroupBy(u => u.ApiKeyId)).ToListAsync(cancellationToken)).Select(ToAggregate)],
            _ => [.. (await Aggregate(usage.GroupBy(u => u.UserId)).ToListAsync(cancellationToken)).Select(ToAggregate)],
        };

        return TypedResults.Ok(new ModelUsageReport(from, to, groupBy, [.. items.OrderBy(i => i.Key, StringComparer.Ordinal)]));
    }

    /// <summary>The individual calls, newest first, with everything governance recorded about each.</summary>
    public static async Task<Results<Ok<PagedResult<ModelUsageCallResponse>>, ValidationProblem>> ListCallsAsync(
        [AsParameters] PageQuery page, [AsParameters] ModelUsageQuery query, AgentPlatformDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var (from, to, invalid) = Range(query, timeProvider);
        if (invalid is not null)
        {
            return invalid;
        }

        return TypedResults.Ok(await Filter(db.ModelUsage.AsNoTracking(), query, from, to)
            .OrderByDescending(u => u.OccurredAt).ThenByDescending(u => u.Id)
            .ToPagedResultAsync(page, ModelUsageCallResponse.From, cancellationToken));
    }

    private static (DateOnly From, DateOnly To, ValidationProblem? Invalid) Range(ModelUsageQuery query, TimeProvider timeProvider)
    {
        var to = query.To ?? DateOnly.FromDateTime(timeProvider.GetUtcNow().UtcDateTime);
        var from = query.From ?? to.AddDays(-29);
        if (from > to)
        {
            return (from, to, Problems.Invalid("from", "'from' must not be after 'to'."));
        }

        if (to.DayNumber - from.DayNumber + 1 > ModelUsageQuery.MaxDays)
        {
            return (from, to, Problems.Invalid("to", $"A report covers at most {ModelUsageQuery.MaxDays} days."));
        }

        return (from, to, null);
    }

    private static IQueryable<ModelUsageRecord> Filter(IQueryable<ModelUsageRecord> usage, ModelUsageQuery query, DateOnly from, DateOnly to)
    {
        usage = usage.Where(u => u.Day >= from && u.Day <= to);
        if (!string.IsNullOrEmpty(query.ApiKeyId))
        {
            usage = usage.Where(u => u.ApiKeyId == query.ApiKeyId);
        }

        if (!string.IsNullOrEmpty(query.UserId))
        {
            usage = usage.Where(u => u.UserId == query.UserId);
        }

        if (!string.IsNullOrEmpty(query.Model))
        {
            usage = usage.Where(u => u.ModelRequested == query.Model || u.ModelServed == query.Model);
        }

        if (!string.IsNullOrEmpty(query.TaskId))
        {
            usage = usage.Where(u => u.TaskId == query.TaskId);
        }

        return usage;
    }

    private static IQueryable<Totals<TKey>> Aggregate<TKey>(IQueryable<IGrouping<TKey, ModelUsageRecord>> groups) =>
        groups.Select(g => new Totals<TKey>(
            g.Key,
            g.LongCount(),
            g.Sum(u => u.InputTokens),
            g.Sum(u => u.OutputTokens),
            g.Sum(u => u.CachedInputTokens),
            g.Sum(u => u.CostMicros),
            g.LongCount(u => u.Outcome != OkOutcome)));

    private static ModelUsageAggregate ToAggregate<TKey>(Totals<TKey> totals) => new(
        totals.Key switch
        {
            DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            var key => key?.ToString(),
        },
        totals.Calls, totals.InputTokens, totals.OutputTokens, totals.CachedInputTokens, totals.CostMicros, totals.Errors);

    /// <summary>The user's or API key's id in its canonical form (as the gateway keys budgets), or null when the tenant has no such subject.</summary>
    private static async Task<string?> FindSubjectAsync(string scope, string? subjectId, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(subjectId, out var id))
        {
            return null;
        }

        var exists = scope == ModelBudgetKeys.UserScope
            ? await db.Users.AnyAsync(u => u.Id == id, cancellationToken)
            : await db.ApiKeys.AnyAsync(k => k.Id == id, cancellationToken);
        return exists ? id.ToString() : null;
    }

    private static object Audited(ModelBudget budget) => new { budget.Scope, budget.SubjectId, budget.LimitMicros, budget.Period };

    private sealed record Totals<TKey>(TKey Key, long Calls, long InputTokens, long OutputTokens, long CachedInputTokens, long CostMicros, long Errors);
}
