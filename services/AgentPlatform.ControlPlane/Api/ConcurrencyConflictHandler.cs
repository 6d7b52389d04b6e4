using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Api;

/// <summary>
/// Two requests changed the same row at once and this one lost: the client should read again and retry, so
/// answer 409 problem details instead of a 500.
/// </summary>
internal sealed class ConcurrencyConflictHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not DbUpdateConcurrencyException)
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status409Conflict;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Conflict.",
                Detail = "Someone else changed this resource at the same time. Read it again and retry.",
            },
        });
    }
}
