using AgentPlatform.Domain.Models;
using AgentPlatform.Domain.Counters;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.ModelGateway.Tests.Governance;

/// <summary>
/// Governance composed the way the model gateway composes it, over a real database and a real counters store,
/// on a fake clock. Each test uses a tenant of its own, so runs against a shared Redis never meet.
/// </summary>
public abstract class GovernanceTest : DatabaseTest
{
    /// <summary>1 micro-unit per input token, 2 per output token, 0.5 per cached input token.</summary>
    protected static readonly ModelPrice Price = new(1_000_000, 2_000_000, 500_000);

    /// <summary>The worst case of <see cref="Request"/>'s defaults: 100 input + 450 output tokens.</summary>
    protected const long CallCost = 1_000;

    private PlatformTestHost? host;

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 10, 0, 10, TimeSpan.Zero));

    protected string Tenant { get; } = $"t{Guid.NewGuid():N}"[..24];

    protected PlatformTestHost Host => host ?? throw new InvalidOperationException("Call StartAsync first.");

    protected IModelGovernance Governance => Host.Services.GetRequiredService<IModelGovernance>();

    protected ICounterStore Counters => Host.Services.GetRequiredService<ICounterStore>();

    /// <summary>The counters store's configuration (none: in process).</summary>
    protected virtual IReadOnlyDictionary<string, string?> CounterConfiguration => new Dictionary<string, string?>();

    protected async Task StartAsync(IReadOnlyDictionary<string, string?>? configuration = null, Action<IHostApplicationBuilder>? configure = null)
    {
        var merged = new Dictionary<string, string?>(CounterConfiguration);
        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        host = await CreateHostAsync(
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(Clock);
                configure?.Invoke(builder);
                builder.AddModelGovernance();
            },
            merged);

        // The Redis client connects on first use, which must not happen inside a test's burst of concurrent calls.
        if (Counters is not UnreachableCounterStore)
        {
            await Counters.GetCountAsync("warm-up", Ct);
        }
    }

    protected async Task AddBudgetAsync(string scope, string subjectId, string period, long limitMicros)
    {
        await using var scopeOfWork = Host.CreateTenantScope(Tenant);
        var db = scopeOfWork.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        db.ModelBudgets.Add(new ModelBudget
        {
            Id = Guid.NewGuid(),
            TenantId = Tenant,
            Scope = scope,
            SubjectId = subjectId,
            LimitMicros = limitMicros,
            Period = period,
            CreatedAt = Clock.GetUtcNow().UtcDateTime,
            UpdatedAt = Clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(Ct);
    }

    protected async Task<long> SpentAsync(string scope, string subjectId, string period) =>
        await Counters.GetCountAsync(ModelBudgetKeys.SpentKey(Tenant, scope, subjectId, period, Clock.GetUtcNow()), Ct);

    protected async Task<List<ModelUsageRecord>> UsageAsync()
    {
        await Host.Services.GetRequiredService<ModelUsageRecorder>().FlushAsync(Ct);
        await using var scopeOfWork = Host.CreateTenantScope(Tenant);
        var db = scopeOfWork.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        return await db.ModelUsage.AsNoTracking().ToListAsync(Ct);
    }

    protected ModelCallRequest Request(
        string? userId = "user-1",
        string? apiKeyId = "key-1",
        int inputTokens = 100,
        int maxOutputTokens = 450,
        bool streamed = false,
        bool dryRun = false,
        string subject = "subject-1") =>
        new(
            new ModelCaller(Tenant, subject, userId, apiKeyId, "0af7651916cd43dd8448eb211c80319c", "task-1", "main-agent-1", "sub-agent-1"),
            "chat",
            "gpt-test",
            Price,
            inputTokens,
            maxOutputTokens,
            streamed,
            dryRun);

    protected static ModelCallResult Result(long inputTokens, long outputTokens, long cachedInputTokens = 0, string outcome = ModelOutcomes.Ok) =>
        new(
            outcome,
            200,
            "gpt-test-2026-01",
            "primary",
            Price,
            inputTokens,
            outputTokens,
            cachedInputTokens,
            [
                new ModelAttempt("gpt-test", "secondary", "gpt-test-2025", ModelOutcomes.RateLimited, 429, TimeSpan.FromMilliseconds(40), "Too many requests"),
                new ModelAttempt("gpt-test", "primary", "gpt-test-2026-01", ModelOutcomes.Ok, 200, TimeSpan.FromMilliseconds(120), null),
            ],
            TimeSpan.FromMilliseconds(175),
            false);

    protected async Task<IModelCallLease> AdmitAsync(ModelCallRequest request)
    {
        var admission = await Governance.AdmitAsync(request, Ct);
        Assert.True(admission.Admitted, $"Refused: {admission.Refusal?.Message}");
        Assert.Null(admission.Refusal);
        return admission.Lease!;
    }

    protected async Task<ModelCallRefusal> RefuseAsync(ModelCallRequest request)
    {
        var admission = await Governance.AdmitAsync(request, Ct);
        Assert.False(admission.Admitted, "The call was admitted.");
        return admission.Refusal!;
    }
}
