using System.Globalization;
using System.Text;

namespace AgentPlatform.Console.Audit;

/// <summary>
/// The audit page's search form, as <c>GET /api/audit</c> filters: exact matches on action, actor, target and trace,
/// and a range of whole UTC days (<see cref="FromDay"/> and <see cref="ToDay"/> both included). Blank fields do not filter.
/// </summary>
public sealed class AuditSearch
{
    public const int DefaultPageSize = 25;

    public string? Action { get; set; }

    public string? ActorId { get; set; }

    public string? TargetType { get; set; }

    public string? TargetId { get; set; }

    public string? TraceId { get; set; }

    /// <summary>The first day (UTC) of the range; its time of day is ignored.</summary>
    public DateTime? FromDay { get; set; }

    /// <summary>The last day (UTC) of the range, included; its time of day is ignored.</summary>
    public DateTime? ToDay { get; set; }

    /// <summary>Why the search cannot run, or null when it can.</summary>
    public string? Problem => FromDay is { } from && ToDay is { } to && to.Date < from.Date ? "The end day is before the start day." : null;

    public bool IsEmpty =>
        new[] { Action, ActorId, TargetType, TargetId, TraceId }.All(string.IsNullOrWhiteSpace) && FromDay is null && ToDay is null;

    public AuditSearch Copy() => (AuditSearch)MemberwiseClone();

    /// <summary>The API path of page <paramref name="page"/> (1-based) of the records this search finds, newest first.</summary>
    public string ToPath(int page, int pageSize)
    {
        var query = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"/api/audit?page={page}&pageSize={pageSize}"));
        Append(query, "action", Action);
        Append(query, "actorId", ActorId);
        Append(query, "targetType", TargetType);
        Append(query, "targetId", TargetId);
        Append(query, "traceId", TraceId);
        Append(query, "from", FromDay is { } from ? Midnight(from.Date) : null);
        Append(query, "to", ToDay is { } to ? Midnight(to.Date.AddDays(1)) : null);
        return query.ToString();
    }

    private static string Midnight(DateTime day) => day.ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture);

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value.Trim()));
        }
    }
}
