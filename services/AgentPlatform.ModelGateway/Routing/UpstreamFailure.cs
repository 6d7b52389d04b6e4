using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text.Json;
using AgentPlatform.ModelGateway.Governance;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>
/// Why one attempt at a deployment failed, in the terms routing decides on: whether to retry the same
/// deployment, fall back to the next one, cool the deployment down, or give the caller the upstream's answer.
/// </summary>
public sealed record UpstreamFailure(string Outcome, int? StatusCode, string Message, TimeSpan? RetryAfter = null, string? UpstreamCode = null)
{
    /// <summary>The upstream refused the request itself (a 400 that is no context or content refusal).</summary>
    public const string InvalidRequest = "invalid-request";

    /// <summary>Errors and timeouts may pass on a second try at the same deployment; a 429 or a refusal will not.</summary>
    public bool Retryable => Outcome is ModelOutcomes.Error or ModelOutcomes.Timeout;

    /// <summary>
    /// The fallback triggers: errors, timeouts, 429s, context-window and content-policy refusals. Anything else
    /// (a 400 about the request itself) would fail the same way everywhere and goes back to the caller.
    /// </summary>
    public bool FallsBack => Outcome is ModelOutcomes.Error or ModelOutcomes.Timeout or ModelOutcomes.RateLimited
        or ModelOutcomes.ContextLengthExceeded or ModelOutcomes.ContentFiltered;

    /// <summary>Failures of the deployment (not of this request) take it out of rotation for its cooldown.</summary>
    public bool CoolsDown => Outcome is ModelOutcomes.Error or ModelOutcomes.Timeout or ModelOutcomes.RateLimited;

    public static UpstreamFailure Timeout(TimeSpan timeout) =>
        new(ModelOutcomes.Timeout, null, $"The deployment did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");

    public static UpstreamFailure ContentFilterFinish() =>
        new(ModelOutcomes.ContentFiltered, 200, "The deployment stopped the answer with its content filter.", UpstreamCode: "content_filter");

    public static UpstreamFailure ContextTooSmall(int estimatedTokens, int contextWindow) =>
        new(ModelOutcomes.ContextLengthExceeded, null,
            $"The request has about {estimatedTokens} input tokens; the deployment's context window is {contextWindow}.", UpstreamCode: "context_length_exceeded");

    /// <summary>Classifies what a provider client threw.</summary>
    public static UpstreamFailure From(Exception exception) => exception switch
    {
        UpstreamFailureException failure => failure.Failure,
        ClientResultException { Status: 0 } unreachable => new UpstreamFailure(ModelOutcomes.Error, null, $"The deployment cannot be reached: {unreachable.Message}"),
        ClientResultException result => FromStatus(result.Status, ErrorBody(result), RetryAfterOf(result), result.Message),
        HttpRequestException { StatusCode: { } status } http => FromStatus((int)status, null, null, http.Message),
        HttpRequestException http => new UpstreamFailure(ModelOutcomes.Error, null, $"The deployment cannot be reached: {http.Message}"),
        _ => new UpstreamFailure(ModelOutcomes.Error, null, $"The deployment failed: {exception.GetType().Name}: {exception.Message}"),
    };

    /// <summary>Classifies an upstream's error answer: its status, OpenAI-shaped error body and Retry-After.</summary>
    public static UpstreamFailure FromResponse(int status, ReadOnlyMemory<byte> body, Func<string, string?> header, string fallbackMessage) =>
        FromStatus(status, ErrorBody(body), RetryAfterOf(header), fallbackMessage);

    private static UpstreamFailure FromStatus(int status, UpstreamError? error, TimeSpan? retryAfter, string fallbackMessage)
    {
        var message = error?.Message ?? fallbackMessage;
        var code = error?.Code;
        if (status == (int)HttpStatusCode.TooManyRequests)
        {
            return new UpstreamFailure(ModelOutcomes.RateLimited, status, message, retryAfter, code);
        }

        if (code is "context_length_exceeded" or "string_above_max_length"
            || message.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || message.Contains("context window", StringComparison.OrdinalIgnoreCase))
        {
            return new UpstreamFailure(ModelOutcomes.ContextLengthExceeded, status, message, null, code ?? "context_length_exceeded");
        }

        if (code is "content_filter" or "content_policy_violation" || error?.Type == "content_filter")
        {
            return new UpstreamFailure(ModelOutcomes.ContentFiltered, status, message, null, code ?? "content_filter");
        }

        // 400/422 about the request itself: every deployment would say the same.
        if (status is 400 or 413 or 415 or 422)
        {
            return new UpstreamFailure(InvalidRequest, status, message, null, code);
        }

        // 401/403/404 here mean the deployment is misconfigured (key, model name), 408/409/5xx that it is unwell.
        return new UpstreamFailure(ModelOutcomes.Error, status, message, retryAfter, code);
    }

    private static TimeSpan? RetryAfterOf(ClientResultException exception)
    {
        var response = exception.GetRawResponse();
        return response is null ? null : RetryAfterOf(name => response.Headers.TryGetValue(name, out var value) ? value : null);
    }

    private static TimeSpan? RetryAfterOf(Func<string, string?> header)
    {
        if (header("retry-after-ms") is { } milliseconds
            && double.TryParse(milliseconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (header("Retry-After") is { } value)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    private static UpstreamError? ErrorBody(ClientResultException exception)
    {
        try
        {
            var content = exception.GetRawResponse()?.Content;
            return content is null ? null : ErrorBody(content.ToMemory());
        }
        catch (InvalidOperationException)
        {
            // The response body was a stream that has been read already.
            return null;
        }
    }

    private static UpstreamError? ErrorBody(ReadOnlyMemory<byte> content)
    {
        if (content.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(content);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("error", out var error))
            {
                return null;
            }

            if (error.ValueKind == JsonValueKind.String)
            {
                return new UpstreamError(error.GetString(), null, null);
            }

            return error.ValueKind != JsonValueKind.Object ? null : new UpstreamError(
                StringOf(error, "message"), StringOf(error, "code"), StringOf(error, "type"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Number ? value.ToString() : null;

    private sealed record UpstreamError(string? Message, string? Code, string? Type);
}

/// <summary>Thrown by an attempt that got an answer routing must treat as a failure (a content-filter finish).</summary>
public sealed class UpstreamFailureException(UpstreamFailure failure) : Exception(failure.Message)
{
    public UpstreamFailure Failure { get; } = failure;
}
