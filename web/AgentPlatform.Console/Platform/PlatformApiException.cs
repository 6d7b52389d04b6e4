using System.Net;

namespace AgentPlatform.Console.Platform;

/// <summary>
/// A platform API call that did not succeed, from its RFC 9457 problem details where it sent them: what pages show
/// the user (<see cref="Title"/>, <see cref="Detail"/>, and <see cref="Errors"/> per field for a 400).
/// </summary>
public sealed class PlatformApiException : Exception
{
    public PlatformApiException(int status, string title, string? detail = null, IReadOnlyDictionary<string, string[]>? errors = null, string? traceId = null, Exception? innerException = null)
        : base(detail is null ? title : $"{title} {detail}", innerException)
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        TraceId = traceId;
    }

    /// <summary>The HTTP status; 0 when the platform could not be reached at all.</summary>
    public int Status { get; }

    public string Title { get; }

    public string? Detail { get; }

    /// <summary>Validation errors by field (<c>input</c>, <c>priority</c>, …); empty for other problems.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The trace of the failed request, to quote when reporting it.</summary>
    public string? TraceId { get; }

    public bool IsNotFound => Status == (int)HttpStatusCode.NotFound;

    public bool IsForbidden => Status == (int)HttpStatusCode.Forbidden;

    /// <summary>A title for a status that came without problem details.</summary>
    public static string DefaultTitle(int status) => status switch
    {
        400 => "The request is not valid.",
        401 => "Your session has ended. Sign in again.",
        403 => "You do not have permission to do this.",
        404 => "Not found.",
        409 => "This conflicts with the current state.",
        413 => "The request is too large.",
        429 => "Too many requests: wait a moment and try again.",
        >= 500 => "The platform could not complete the request. Try again.",
        _ => $"The request failed (HTTP {status}).",
    };
}
