using AgentPlatform.Domain.Models;
using System.Collections.Concurrent;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>One budget that applies to a call, as governance reserves on it.</summary>
public sealed record ApplicableBudget(string Scope, string SubjectId, string Period, long LimitMicros);

/// <summary>
/// The budgets that apply to a caller — the tenant's, the user's and the API key's, each per period — read from
/// the database and cached for <see cref="ModelGovernanceOptions.BudgetCacheDuration"/>, so the hot path is not a
/// query per call. Limits only are cached; spending lives in the counters store and is never cached.
/// </summary>
public sealed class ModelBudgetCatalog(
    IServiceScopeFactory scopeFactory,
    IOptionsMonitor<ModelGovernanceOptions> options,
    TimeProvider timeProvider)
{
    // Beyond this many cached callers, expired entries are dropped on the next load.
    private const int PruneThreshold = 10_000;

    private readonly ConcurrentDictionary<(string TenantId, string? UserId, string? ApiKeyId), CacheEntry> cache = new();

    public async ValueTask<IReadOnlyList<ApplicableBudget>> GetAsync(ModelCaller caller, CancellationToken cancellationToken)
    {
        var key = (caller.TenantId, caller.UserId, caller.ApiKeyId);
        var now = timeProvider.GetUtcNow();
        if (cache.TryGetValue(key, out var cached) && now < cached.ExpiresAt)
        {
            return cached.Budgets;
        }

        var budgets = await LoadAsync(caller, cancellationToken);
        if (cache.Count >= PruneThreshold)
        {
            foreach (var entry in cache.Where(entry => entry.Value.ExpiresAt <= now))
            {
                cache.TryRemove(entry);
            }
        }

        cache[key] = new CacheEntry(budgets, now + options.CurrentValue.BudgetCacheDuration);
        return budgets;
    }

    private async Task<IReadOnlyList<ApplicableBudget>> LoadAsync(ModelCaller caller, CancellationToken cancellationToken)
    {
        // A scope of its own, bound to the caller's tenant: the query filter then limits it to that tenant's rows,
        // whether or not the request's own scope is still usable.
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(caller.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var userId = Canonical(caller.UserId);
        var apiKeyId = Canonical(caller.ApiKeyId);
        var rows = await db.ModelBudgets.AsNoTracking()
            .Where(b => (b.Scope == ModelBudgetKeys.TenantScope && b.SubjectId == caller.TenantId)
                || (b.Scope == ModelBudgetKeys.UserScope && b.SubjectId == userId)
                || (b.Scope == ModelBudgetKeys.ApiKeyScope && b.SubjectId == apiKeyId))
            .Select(b => new ApplicableBudget(b.Scope, b.SubjectId, b.Period, b.LimitMicros))
            .ToListAsync(cancellationToken);

        // Empty subject ids never match a user or key (the caller has none), and unknown periods are ignored
        // rather than failing every call of the tenant.
        return rows
            .Where(b => b.SubjectId.Length > 0 && ModelBudgetKeys.Periods.Contains(b.Period))
            .OrderBy(b => b.Scope switch { ModelBudgetKeys.TenantScope => 0, ModelBudgetKeys.UserScope => 1, _ => 2 })
            .ThenBy(b => b.Period, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// User and key ids as the control plane stores them in <see cref="ModelBudget.SubjectId"/>: a Guid in its
    /// lowercase "D" form, whatever form the token carries it in. Empty when the caller has none.
    /// </summary>
    private static string Canonical(string? subjectId) =>
        subjectId is null ? "" : Guid.TryParse(subjectId, out var id) ? id.ToString() : subjectId;

    private sealed record CacheEntry(IReadOnlyList<ApplicableBudget> Budgets, DateTimeOffset ExpiresAt);
}
