using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// What the audit trail keeps of a call's arguments: each value cut to a preview (with its full length), URLs
/// without credentials, query or fragment, and arguments whose names suggest a secret not at all.
/// </summary>
public static partial class ToolArguments
{
    public const int MaxArguments = 8;

    public static Dictionary<string, string?> Summarize(IReadOnlyDictionary<string, object?>? arguments, int maxChars)
    {
        var summary = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (arguments is null)
        {
            return summary;
        }

        foreach (var (name, value) in arguments.OrderBy(a => a.Key, StringComparer.Ordinal).Take(MaxArguments))
        {
            var key = Cut(name, 40);
            summary[key] = SecretName().IsMatch(name) ? "[redacted]" : Preview(Text(value), maxChars);
        }

        if (arguments.Count > MaxArguments)
        {
            summary["…"] = $"{arguments.Count - MaxArguments} more arguments";
        }

        return summary;
    }

    public static string Cut(string text, int maxChars) =>
        text.Length <= maxChars ? text : string.Concat(text.AsSpan(0, maxChars), $"… ({text.Length} chars)");

    private static string? Preview(string? text, int maxChars)
    {
        if (text is null)
        {
            return null;
        }

        if (Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "ftp" or "ws" or "wss")
        {
            var redacted = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
            text = uri.Query.Length > 0 || uri.Fragment.Length > 0 ? redacted + "?…" : redacted;
        }

        return Cut(text, maxChars);
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
        JsonElement element => element.GetRawText(),
        _ => value.ToString(),
    };

    [GeneratedRegex("pass|secret|token|key|auth|credential|cookie", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
