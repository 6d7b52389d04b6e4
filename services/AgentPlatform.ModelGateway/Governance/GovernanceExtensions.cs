using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.Infrastructure.Counters;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentPlatform.ModelGateway.Governance;

public static class GovernanceExtensions
{
    /// <summary>Budgets, rate limits, prices, usage records and metrics behind <see cref="IModelGovernance"/>.</summary>
    public static IHostApplicationBuilder AddModelGovernance(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformCounters();
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<ModelGovernanceOptions>().BindConfiguration(ModelGovernanceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ModelRateLimitOptions>().BindConfiguration(ModelRateLimitOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.TryAddSingleton<ITokenEstimator, O200kTokenEstimator>();
        builder.Services.TryAddSingleton<ModelGatewayMetrics>();
        builder.Services.TryAddSingleton<ModelBudgetCatalog>();
        builder.Services.TryAddSingleton<ModelBudgetLedger>();
        builder.Services.TryAddSingleton<ModelRateLimiter>();
        builder.Services.TryAddSingleton<ModelUsageRecorder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ModelUsageRecorder>());
        builder.Services.TryAddSingleton<IModelGovernance, ModelGovernance>();
        return builder;
    }
}
