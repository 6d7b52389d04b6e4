using System.Text.Json;

namespace AgentPlatform.Testing.ModelUpstream;

/// <summary>One request a <see cref="ScriptedOpenAiUpstream"/> received, as it arrived.</summary>
/// <param name="Path">The request path, e.g. <c>/v1/chat/completions</c>.</param>
/// <param name="Model">The request's <c>model</c>, null for <c>GET /v1/models</c> or a body without one.</param>
/// <param name="Stream">Whether the request asked for SSE (<c>"stream": true</c>).</param>
/// <param name="Request">The request JSON (<c>default</c> when the body was empty or not JSON).</param>
/// <param name="Headers">Request headers by lower-case name, <c>authorization</c> included.</param>
/// <param name="ReceivedAt">When the request arrived.</param>
public sealed record UpstreamCall(
    string Path,
    string? Model,
    bool Stream,
    JsonElement Request,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset ReceivedAt)
{
    public string? Authorization => Headers.TryGetValue("authorization", out var value) ? value : null;

    /// <summary>The content of the request's last user message, for chat completions.</summary>
    public string? LastUserMessage
    {
        get
        {
            if (Request.ValueKind != JsonValueKind.Object
                || !Request.TryGetProperty("messages", out var messages)
                || messages.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var last = messages.EnumerateArray().LastOrDefault(m => m.TryGetProperty("role", out var role) && role.GetString() == "user");
            return last.ValueKind == JsonValueKind.Object ? OpenAiWire.ContentText(last) : null;
        }
    }
}
