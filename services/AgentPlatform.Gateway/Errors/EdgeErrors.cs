using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Yarp.ReverseProxy.Model;

namespace AgentPlatform.Gateway.Errors;

/// <summary>
/// One way the gateway answers an error: through <see cref="IProblemDetailsService"/>, which writes RFC 9457
/// problem details, or the OpenAI error shape on routes whose metadata asks for it
/// (<see cref="EdgePolicies.ErrorFormatMetadata"/>). Status code pages, the exception handler, the
/// authentication challenge, rate limit and body size rejections all go through it.
/// </summary>
public static class EdgeErrors
{
    /// <summary>Problem details extension carrying a machine-readable error code (OpenAI's <c>error.code</c>).</summary>
    public const string CodeExtension = "code";

    public static IHostApplicationBuilder AddEdgeErrors(this IHostApplicationBuilder builder)
    {
        // ProblemDetailsService asks the writers in registration order and the default one (registered by
        // AddHttpServiceDefaults) accepts every JSON request, so the route-aware writer goes first.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());
        builder.Services.AddExceptionHandler<CredentialCheckUnavailableHandler>();
        return builder;
    }

    /// <summary>Writes an error answer with <paramref name="status"/> (already set on the response or not).</summary>
    public static ValueTask WriteAsync(HttpContext context, int status, string detail, string? code = null)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Detail = detail };
        if (code is not null)
        {
            problem.Extensions[CodeExtension] = code;
        }

        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    // The exception handler clears the endpoint before it answers; its feature keeps the one that failed.
    internal static bool UsesOpenAiErrors(HttpContext context) =>
        (context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint)?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata is { } metadata
        && metadata.TryGetValue(EdgePolicies.ErrorFormatMetadata, out var format)
        && string.Equals(format, EdgePolicies.OpenAiErrorFormat, StringComparison.OrdinalIgnoreCase);

    /// <summary>Answers 503 when a credential could not be checked: the caller should retry, its credential may be fine.</summary>
    private sealed class CredentialCheckUnavailableHandler : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not CredentialCheckUnavailableException)
            {
                return false;
            }

            await WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "The credential could not be checked right now; retry shortly.");
            return true;
        }
    }
}

/// <summary>
/// The control plane could not be asked whether a credential is valid (unreachable, failing, or answering
/// outside the contract). The caller gets 503: its credential may well be fine.
/// </summary>
public sealed class CredentialCheckUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
