using System.Globalization;

namespace AgentPlatform.Console.Models;

/// <summary>How model amounts read on the pages. Money is kept in micro-units (millionths) of the platform currency.</summary>
public static class ModelFormat
{
    public static decimal FromMicros(long micros) => micros / 1_000_000m;

    public static long ToMicros(decimal amount) => (long)decimal.Round(amount * 1_000_000m, MidpointRounding.AwayFromZero);

    /// <summary>At least two decimals, more only when the amount has them (a single call can cost 0.000042).</summary>
    public static string Amount(long micros) => FromMicros(micros).ToString("#,0.00####", CultureInfo.InvariantCulture);

    public static string Tokens(long tokens) => tokens.ToString("N0", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? value) =>
        value is { } time ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : "—";
}
