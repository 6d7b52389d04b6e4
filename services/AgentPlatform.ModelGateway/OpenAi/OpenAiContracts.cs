using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentPlatform.ModelGateway.OpenAi;

// OpenAI's request bodies, as much of them as the gateway reads. Unknown members are ignored, as OpenAI's
// clients send members older servers do not know.

public sealed class ChatCompletionRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }

    [JsonPropertyName("messages")] public List<ChatMessageBody>? Messages { get; set; }

    [JsonPropertyName("temperature")] public float? Temperature { get; set; }

    [JsonPropertyName("top_p")] public float? TopP { get; set; }

    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }

    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; set; }

    [JsonPropertyName("n")] public int? N { get; set; }

    [JsonPropertyName("stream")] public bool? Stream { get; set; }

    [JsonPropertyName("stream_options")] public StreamOptionsBody? StreamOptions { get; set; }

    [JsonPropertyName("stop")] public JsonElement? Stop { get; set; }

    [JsonPropertyName("tools")] public List<ToolBody>? Tools { get; set; }

    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; set; }

    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; set; }

    [JsonPropertyName("response_format")] public ResponseFormatBody? ResponseFormat { get; set; }

    [JsonPropertyName("seed")] public long? Seed { get; set; }

    [JsonPropertyName("presence_penalty")] public float? PresencePenalty { get; set; }

    [JsonPropertyName("frequency_penalty")] public float? FrequencyPenalty { get; set; }

    /// <summary>The platform's dry-run hooks; only for callers with <c>models:dry-run</c>.</summary>
    [JsonPropertyName("agentplatform")] public DryRunBody? AgentPlatform { get; set; }
}

public sealed class ChatMessageBody
{
    [JsonPropertyName("role")] public string? Role { get; set; }

    /// <summary>A string, an array of content parts, or null (an assistant message with tool calls).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; set; }

    [JsonPropertyName("name")] public string? Name { get; set; }

    [JsonPropertyName("tool_calls")] public List<ToolCallBody>? ToolCalls { get; set; }

    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; set; }
}

public sealed class ToolCallBody
{
    [JsonPropertyName("id")] public string? Id { get; set; }

    [JsonPropertyName("type")] public string? Type { get; set; }

    [JsonPropertyName("function")] public FunctionCallBody? Function { get; set; }
}

public sealed class FunctionCallBody
{
    [JsonPropertyName("name")] public string? Name { get; set; }

    [JsonPropertyName("arguments")] public string? Arguments { get; set; }
}

public sealed class ToolBody
{
    [JsonPropertyName("type")] public string? Type { get; set; }

    [JsonPropertyName("function")] public FunctionBody? Function { get; set; }
}

public sealed class FunctionBody
{
    [JsonPropertyName("name")] public string? Name { get; set; }

    [JsonPropertyName("description")] public string? Description { get; set; }

    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; set; }

    [JsonPropertyName("strict")] public bool? Strict { get; set; }
}

public sealed class StreamOptionsBody
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; set; }
}

public sealed class ResponseFormatBody
{
    [JsonPropertyName("type")] public string? Type { get; set; }

    [JsonPropertyName("json_schema")] public JsonSchemaBody? JsonSchema { get; set; }
}

public sealed class JsonSchemaBody
{
    [JsonPropertyName("name")] public string? Name { get; set; }

    [JsonPropertyName("description")] public string? Description { get; set; }

    [JsonPropertyName("schema")] public JsonElement? Schema { get; set; }

    [JsonPropertyName("strict")] public bool? Strict { get; set; }
}

public sealed class DryRunBody
{
    /// <summary>Answer with this text; no deployment is called.</summary>
    [JsonPropertyName("mock_response")] public string? MockResponse { get; set; }

    /// <summary>Skip the route's own deployments and serve from its fallbacks.</summary>
    [JsonPropertyName("force_fallback")] public bool? ForceFallback { get; set; }
}

public sealed class EmbeddingRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }

    /// <summary>A string or an array of strings.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; set; }

    /// <summary><c>float</c> (default) or <c>base64</c> (little-endian float32, what OpenAI's SDKs ask for).</summary>
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; set; }

    [JsonPropertyName("dimensions")] public int? Dimensions { get; set; }

    [JsonPropertyName("agentplatform")] public DryRunBody? AgentPlatform { get; set; }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.Strict, ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(EmbeddingRequest))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class OpenAiJsonContext : JsonSerializerContext;
