using System.Globalization;
using System.Text.Json;

namespace AgentPlatform.Console.Tasks;

/// <summary>How task numbers and times read on the pages.</summary>
public static class TaskFormat
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Time(DateTime? utc) =>
        utc is { } value ? DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    public static string Duration(long? milliseconds) => milliseconds switch
    {
        null => "—",
        < 1000 => $"{milliseconds} ms",
        < 60_000 => (milliseconds.Value / 1000.0).ToString("0.0 's'", CultureInfo.InvariantCulture),
        _ => $"{milliseconds.Value / 60_000} min {milliseconds.Value % 60_000 / 1000} s",
    };

    public static string Tokens(long tokens) => tokens.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Cost (millionths of the price list's currency unit) read as on the dashboard, so both pages agree.</summary>
    public static string Cost(long micros) => Dashboard.DashboardFormat.Cost(micros);

    /// <summary>A result as text: a JSON string as its text, anything else as indented JSON.</summary>
    public static string Result(JsonElement result) =>
        result.ValueKind == JsonValueKind.String ? result.GetString() ?? "" : JsonSerializer.Serialize(result, Indented);
}
