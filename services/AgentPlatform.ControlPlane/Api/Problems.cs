using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentPlatform.ControlPlane.Api;

/// <summary>The control plane's RFC 9457 answers for the few errors every API shares.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"{what} was not found.");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict.", detail: detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: detail);

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
}
