namespace AgentPlatform.Domain.Models;

/// <summary>
/// Where budget spending lives in the counters port: one counter per budget and period, in micro-units.
/// The model gateway reserves and settles on it; the control plane reads it for budget status.
/// </summary>
public static class ModelBudgetKeys
{
    public const string TenantScope = "tenant";
    public const string UserScope = "user";
    public const string ApiKeyScope = "api-key";

    public const string Daily = "daily";
    public const string Monthly = "monthly";

    public static IReadOnlyList<string> Scopes { get; } = [TenantScope, UserScope, ApiKeyScope];

    public static IReadOnlyList<string> Periods { get; } = [Daily, Monthly];

    /// <summary>The spending counter of one budget for the period that contains <paramref name="now"/>.</summary>
    public static string SpentKey(string tenantId, string scope, string subjectId, string period, DateTimeOffset now) =>
        $"model-budget:{tenantId}:{scope}:{subjectId}:{period}:{PeriodStart(period, now):yyyyMMdd}";

    /// <summary>The UTC start of the period containing <paramref name="now"/>.</summary>
    public static DateTimeOffset PeriodStart(string period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period switch
        {
            Daily => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            Monthly => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "A budget period is 'daily' or 'monthly'."),
        };
    }

    /// <summary>The UTC end (exclusive) of the period containing <paramref name="now"/>: when the budget resets.</summary>
    public static DateTimeOffset PeriodEnd(string period, DateTimeOffset now) =>
        period == Daily ? PeriodStart(period, now).AddDays(1) : PeriodStart(period, now).AddMonths(1);
}
