using System.Text.Json.Serialization;

namespace AgentPlatform.Gateway.Errors;

/// <summary>
/// Writes <c>{"error":{"message","type","param","code"}}</c>, the shape OpenAI's API answers errors in and its
/// SDKs parse, on routes marked with <see cref="EdgePolicies.OpenAiErrorFormat"/>.
/// </summary>
internal sealed class OpenAiErrorWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => EdgeErrors.UsesOpenAiErrors(context.HttpContext);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var response = context.HttpContext.Response;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? response.StatusCode;
        var (type, defaultCode) = Classify(status);
        var code = problem.Extensions.TryGetValue(EdgeErrors.CodeExtension, out var value) && value is string explicitCode ? explicitCode : defaultCode;
        var message = problem.Detail ?? problem.Title ?? ReasonPhrase(status);

        var error = new OpenAiError(new OpenAiErrorBody(message, type, Param: null, code));
        return new ValueTask(response.WriteAsJsonAsync(error, OpenAiErrorJsonContext.Default.OpenAiError, contentType: "application/json", context.HttpContext.RequestAborted));
    }

    // OpenAI's own types: invalid_request_error for client errors, server_error for its failures.
    private static (string Type, string? Code) Classify(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
        StatusCodes.Status403Forbidden => ("invalid_request_error", "insufficient_permissions"),
        StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
        StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
        StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
        >= 500 => ("server_error", null),
        _ => ("invalid_request_error", null),
    };

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}

internal sealed record OpenAiError(OpenAiErrorBody Error);

internal sealed record OpenAiErrorBody(string Message, string Type, string? Param, string? Code);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OpenAiError))]
internal sealed partial class OpenAiErrorJsonContext : JsonSerializerContext;
