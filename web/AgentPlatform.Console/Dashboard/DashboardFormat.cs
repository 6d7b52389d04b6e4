using System.Globalization;

namespace AgentPlatform.Console.Dashboard;

/// <summary>How the dashboard's figures read.</summary>
public static class DashboardFormat
{
    /// <summary>
    /// Cost from millionths of the price list's currency unit: two decimals with thousands separators, or as many
    /// decimals as the first significant digit needs when it is less than a hundredth (so a small spend never reads 0.00).
    /// </summary>
    public static string Cost(long micros)
    {
        var units = micros / 1_000_000m;
        if (micros == 0 || Math.Abs(units) >= 0.01m)
        {
            return units.ToString("#,##0.00", CultureInfo.InvariantCulture);
        }

        return units.ToString("0.######", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A rate (0–1) as a percentage to one decimal, rounded down so that a rate below one never reads 100 %; a dash when
    /// there is none.
    /// </summary>
    public static string Percent(double? rate) =>
        rate is { } value ? (Math.Floor(value * 1000) / 10).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "—";

    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A bucket's label: its hour for hour buckets, its date for day buckets (UTC).</summary>
    public static string BucketLabel(DateTime start, string bucket) =>
        start.ToString(bucket == DashboardWindow.Hour ? "HH:mm" : "MMM d", CultureInfo.InvariantCulture);

    /// <summary>A bucket in a sentence: "14:00 on Nov 26" or "Nov 26".</summary>
    public static string BucketName(DateTime start, string bucket) =>
        bucket == DashboardWindow.Hour
            ? start.ToString("HH:mm 'on' MMM d", CultureInfo.InvariantCulture)
            : start.ToString("MMM d", CultureInfo.InvariantCulture);
}
