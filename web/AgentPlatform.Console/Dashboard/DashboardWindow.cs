using System.Globalization;

namespace AgentPlatform.Console.Dashboard;

/// <summary>
/// A period the dashboard covers: the last <see cref="BucketCount"/> whole UTC hours or days, the current (partial)
/// one last, so every bar of a chart is one hour or one day.
/// </summary>
public sealed record DashboardWindow(string Key, string Label, string Bucket, int BucketCount)
{
    public const string Hour = "hour";
    public const string Day = "day";

    public static DashboardWindow Last24Hours { get; } = new("24h", "Last 24 hours", Hour, 24);

    public static DashboardWindow Last7Days { get; } = new("7d", "Last 7 days", Day, 7);

    public static DashboardWindow Last30Days { get; } = new("30d", "Last 30 days", Day, 30);

    public static IReadOnlyList<DashboardWindow> All { get; } = [Last24Hours, Last7Days, Last30Days];

    public static DashboardWindow Default => Last7Days;

    public TimeSpan BucketSize => Bucket == Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);

    /// <summary>The window's start: the beginning of the bucket <see cref="BucketCount"/> − 1 buckets before now's.</summary>
    public DateTime FromAt(DateTime utcNow) => ToAt(utcNow) - (BucketSize * BucketCount);

    /// <summary>
    /// The window's end: the end of now's bucket, so the current hour or day is a whole bucket like the others and the
    /// request stays the same while it lasts.
    /// </summary>
    public DateTime ToAt(DateTime utcNow) => new(utcNow.Ticks - (utcNow.Ticks % BucketSize.Ticks) + BucketSize.Ticks, DateTimeKind.Utc);

    /// <summary><c>GET /api/tasks/stats</c> for this window at <paramref name="utcNow"/>.</summary>
    public string StatisticsPath(DateTime utcNow) =>
        $"/api/tasks/stats?from={Iso(FromAt(utcNow))}&to={Iso(ToAt(utcNow))}&bucket={Bucket}";

    /// <summary>
    /// <c>GET /api/model-usage</c> by model over the whole UTC days the window touches (the report counts whole days).
    /// </summary>
    public string ModelUsagePath(DateTime utcNow) =>
        $"/api/model-usage?groupBy=model&from={DateOf(FromAt(utcNow))}&to={DateOf(utcNow)}";

    public static DashboardWindow FromKey(string? key) => All.FirstOrDefault(window => window.Key == key) ?? Default;

    private static string Iso(DateTime utc) =>
        Uri.EscapeDataString(DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

    private static string DateOf(DateTime utc) => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
