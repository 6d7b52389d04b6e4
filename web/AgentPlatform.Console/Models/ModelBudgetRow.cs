using AgentPlatform.Domain.Models;
using AgentPlatform.Console.Platform;

namespace AgentPlatform.Console.Models;

/// <summary>A budget with its current period's status, or why the status could not be read.</summary>
public sealed record ModelBudgetRow(ModelBudget Budget, ModelBudgetStatus? Status, PlatformApiException? StatusError)
{
    public BudgetGauge? Gauge => Status is null ? null : BudgetGauge.From(Status);
}

/// <summary>The budget editor's fields: scope, subject and period when creating; only the limit can change later.</summary>
public sealed class ModelBudgetForm
{
    public string Scope { get; set; } = ModelBudgetKeys.TenantScope;

    public string? SubjectId { get; set; }

    public string Period { get; set; } = ModelBudgetKeys.Monthly;

    public const decimal MaxLimit = 1_000_000_000_000m;

    /// <summary>In currency units.</summary>
    public decimal Limit { get; set; }

    public static ModelBudgetForm From(ModelBudget budget) => new()
    {
        Scope = budget.Scope,
        SubjectId = budget.SubjectId,
        Period = budget.Period,
        Limit = ModelFormat.FromMicros(budget.LimitMicros),
    };

    public IReadOnlyDictionary<string, string[]> Validate(bool creating)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (creating)
        {
            if (!ModelBudgetKeys.Scopes.Contains(Scope))
            {
                errors["scope"] = [$"The scope is one of {string.Join(", ", ModelBudgetKeys.Scopes)}."];
            }
            else if (Scope != ModelBudgetKeys.TenantScope && !Guid.TryParse(SubjectId?.Trim(), out _))
            {
                errors["subjectId"] = [Scope == ModelBudgetKeys.UserScope ? "Choose the user (their id)." : "Choose the API key."];
            }

            if (!ModelBudgetKeys.Periods.Contains(Period))
            {
                errors["period"] = [$"The period is one of {string.Join(", ", ModelBudgetKeys.Periods)}."];
            }
        }

        if (Limit is < 0 or > MaxLimit)
        {
            errors["limitMicros"] = ["The limit is zero or more (at most a trillion)."];
        }

        return errors;
    }

    public CreateModelBudgetRequest ToCreateRequest() =>
        new(Scope, Scope == ModelBudgetKeys.TenantScope ? null : SubjectId?.Trim(), ModelFormat.ToMicros(Limit), Period);

    public UpdateModelBudgetRequest ToUpdateRequest() => new(ModelFormat.ToMicros(Limit));
}
