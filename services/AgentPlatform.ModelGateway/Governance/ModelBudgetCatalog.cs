using AgentPlatform.Domain.Models;
using AgentPlatform.Infrastructure.Caching;
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
/// the database, served for at most <see cref="ModelGovernanceOptions.BudgetCacheDuration"/> and reloaded in the
/// background before then (<see cref="RefreshAheadCache{TKey, TValue}"/>), so the hot path is not a query per call
/// and no call waits for one while the caller's budgets are loaded. Limits only are cached; spending lives in the
/// counters store and is never cached. When they cannot be loaded once expired, the caller gets the exception
/// (governance then refuses the call: budgets fail closed).
/// </summary>
public sealed partial class ModelBudgetCatalog
{
    private readonly IServiceScopeFactory scopeFactory;
    private readonly RefreshAheadCache<BudgetSubjects, IReadOnlyList<ApplicableBudget>> cache;

    public ModelBudgetCatalog(
        IServiceScopeFactory scopeFactory,
        IOptionsMonitor<ModelGovernanceOptions> options,
        TimeProvider timeProvider,
        ILogger<ModelBudgetCatalog> logger)
    {
        this.scopeFactory = scopeFactory;
        cache = new(
            LoadAsync,
            () => options.CurrentValue.BudgetCacheDuration,
            timeProvider,
            refreshFailed: (subjects, exception) => LogRefreshFailed(logger, exception, subjects.TenantId));
    }

    public ValueTask<IReadOnlyList<ApplicableBudget>> GetAsync(ModelCaller caller, CancellationToken cancellationToken) =>
        cache.GetAsync(new BudgetSubjects(caller.TenantId, caller.UserId, caller.ApiKeyId), cancellationToken);

    private async Task<IReadOnlyList<ApplicableBudget>> LoadAsync(BudgetSubjects caller)
    {
        // Shared by concurrent callers (RefreshAheadCache): not bound to any one caller's cancellation.
        var cancellationToken = CancellationToken.None;

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId}: budgets could not be reloaded ahead of time; the limits in use are applied until they expire.")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, string tenantId);

    /// <summary>Whose budgets apply to a call: the tenant's, and its user's and API key's when it has them.</summary>
    private readonly record struct BudgetSubjects(string TenantId, string? UserId, string? ApiKeyId);
}
