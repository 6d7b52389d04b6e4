namespace AgentPlatform.Testing.ModelUpstream;

/// <summary>
/// What a <see cref="ScriptedOpenAiUpstream"/> does with one request for a model: a reply, an OpenAI-shaped
/// error, a delay, or a stream that breaks. Steps are consumed in order per model name.
/// </summary>
public abstract record UpstreamStep
{
    private protected UpstreamStep()
    {
    }

    /// <summary>A normal completion with the given text and usage (embeddings answer their default vectors).</summary>
    public static UpstreamStep Reply(string text, int promptTokens, int completionTokens, int cachedTokens = 0) =>
        new ReplyStep(text, promptTokens, completionTokens, cachedTokens);

    /// <summary>A completion that calls one tool (<c>finish_reason</c> <c>tool_calls</c>).</summary>
    public static UpstreamStep ToolCall(string name, string argumentsJson) => new ToolCallStep(name, argumentsJson);

    /// <summary>A completion whose content is <paramref name="content"/>, e.g. the answer to a <c>json_schema</c> request.</summary>
    public static UpstreamStep Json(string content) => new ReplyStep(content, null, null, 0);

    /// <summary>An OpenAI-shaped error: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static UpstreamStep Status(int statusCode, string? type, string? errorCode, string message, TimeSpan? retryAfter = null, string? param = null) =>
        new ErrorStep(statusCode, type, errorCode, message, param, retryAfter);

    /// <summary>429 as OpenAI sends it when a deployment's request rate is exceeded, with <c>Retry-After</c>.</summary>
    public static UpstreamStep RateLimited(TimeSpan retryAfter) =>
        Status(429, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.", retryAfter);

    /// <summary>400 as OpenAI sends it when the prompt does not fit the model's context window.</summary>
    public static UpstreamStep ContextLengthExceeded() =>
        Status(
            400,
            "invalid_request_error",
            "context_length_exceeded",
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
            param: "messages");

    /// <summary>400 as Azure OpenAI sends it when its content filter rejects the prompt.</summary>
    public static UpstreamStep ContentFiltered() =>
        Status(
            400,
            null,
            "content_filter",
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            param: "prompt");

    /// <summary>200 whose choice ends with <c>finish_reason</c> <c>content_filter</c> and no content.</summary>
    public static UpstreamStep ContentFilterFinish() => new ContentFilterFinishStep();

    /// <summary>A server error (500 by default, 503 for an overloaded server).</summary>
    public static UpstreamStep ServerError(int statusCode = 500) =>
        Status(statusCode, "server_error", null, statusCode == 503 ? "The server is overloaded or not ready yet." : "The server had an error while processing your request.");

    /// <summary>Waits <paramref name="delay"/> (or until the caller gives up), then does <paramref name="then"/>.</summary>
    public static UpstreamStep Delay(TimeSpan delay, UpstreamStep? then = null) => new DelayStep(delay, then);

    /// <summary>
    /// Sends the status line and <paramref name="afterChunks"/> SSE chunks (part of the JSON body when the
    /// request does not stream), then aborts the connection.
    /// </summary>
    public static UpstreamStep BrokenStream(int afterChunks = 2) => new BrokenStreamStep(afterChunks);
}

internal sealed record ReplyStep(string Text, int? PromptTokens, int? CompletionTokens, int CachedTokens) : UpstreamStep;

internal sealed record ToolCallStep(string Name, string ArgumentsJson) : UpstreamStep;

internal sealed record ErrorStep(int StatusCode, string? Type, string? Code, string Message, string? Param, TimeSpan? RetryAfter) : UpstreamStep;

internal sealed record ContentFilterFinishStep : UpstreamStep;

internal sealed record DelayStep(TimeSpan Duration, UpstreamStep? Then) : UpstreamStep;

internal sealed record BrokenStreamStep(int AfterChunks) : UpstreamStep;
