namespace AgentPlatform.Worker.Tools;

/// <summary>
/// A tool call that could not be done, with a message for the model (it may correct the call and try again). The
/// gateway returns it to the model as a <see cref="ToolError"/>; it never carries a secret.
/// </summary>
public sealed class ToolException(string code, string message) : Exception(message)
{
    public const string NotAllowed = "tool_not_allowed";
    public const string ContextMismatch = "context_mismatch";
    public const string InvalidArguments = "invalid_arguments";
    public const string Unavailable = "unavailable";

    /// <summary>A stable, snake_case reason, e.g. <c>egress_denied</c>.</summary>
    public string Code { get; } = code;
}

/// <summary>What the model gets back from a call that failed or was refused.</summary>
public sealed record ToolError(string Error, string Code);
