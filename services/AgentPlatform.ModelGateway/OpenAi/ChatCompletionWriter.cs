using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>What every completion or chunk of one call says about itself.</summary>
public sealed record CompletionIdentity(string Id, long Created, string Model, string? SystemFingerprint);

/// <summary>Token counts as OpenAI reports them.</summary>
public readonly record struct TokenUsage(long InputTokens, long OutputTokens, long CachedInputTokens);

/// <summary>Writes OpenAI's <c>chat.completion</c> and <c>chat.completion.chunk</c> objects straight to the response.</summary>
public static class ChatCompletionWriter
{
    public const string OfflineFingerprint = "agentplatform-offline";

    public static void WriteCompletion(Utf8JsonWriter writer, CompletionIdentity identity, ChatResponse response, TokenUsage usage)
    {
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        writer.WriteStartObject();
        WriteHeader(writer, identity, "chat.completion");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", "assistant");
        var text = response.Text;
        if (text.Length == 0 && calls.Count > 0)
        {
            writer.WriteNull("content");
        }
        else
        {
            writer.WriteString("content", text);
        }

        writer.WriteNull("refusal");
        if (calls.Count > 0)
        {
            WriteToolCalls(writer, calls, withIndex: false);
        }

        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", FinishReason(response.FinishReason, calls.Count > 0));
        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    /// <summary>One chunk with the update's text and tool calls; the role goes in the first one only.</summary>
    public static void WriteChunk(Utf8JsonWriter writer, CompletionIdentity identity, ChatResponseUpdate update, bool first, ref int toolCallIndex)
    {
        writer.WriteStartObject();
        WriteHeader(writer, identity, "chat.completion.chunk");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("delta");
        if (first)
        {
            writer.WriteString("role", "assistant");
        }

        var text = update.Text;
        if (text.Length > 0 || first)
        {
            writer.WriteString("content", text);
        }

        var calls = update.Contents.OfType<FunctionCallContent>().ToList();
        if (calls.Count > 0)
        {
            WriteToolCalls(writer, calls, withIndex: true, toolCallIndex);
            toolCallIndex += calls.Count;
        }

        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        if (update.FinishReason is { } finish)
        {
            writer.WriteString("finish_reason", FinishReason(finish, toolCallIndex > 0));
        }
        else
        {
            writer.WriteNull("finish_reason");
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The closing chunk with only a finish reason (when the stream ended without one, or was stopped).</summary>
    public static void WriteFinishChunk(Utf8JsonWriter writer, CompletionIdentity identity, ChatFinishReason finishReason)
    {
        var noToolCalls = 0;
        WriteChunk(writer, identity, new ChatResponseUpdate { FinishReason = finishReason }, first: false, ref noToolCalls);
    }

    /// <summary>The usage chunk of <c>stream_options.include_usage</c>: no choices.</summary>
    public static void WriteUsageChunk(Utf8JsonWriter writer, CompletionIdentity identity, TokenUsage usage)
    {
        writer.WriteStartObject();
        WriteHeader(writer, identity, "chat.completion.chunk");
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    public static string FinishReason(ChatFinishReason? reason, bool hasToolCalls)
    {
        if (reason == ChatFinishReason.Length)
        {
            return "length";
        }

        if (reason == ChatFinishReason.ContentFilter)
        {
            return "content_filter";
        }

        return reason == ChatFinishReason.ToolCalls || (reason is null && hasToolCalls) ? "tool_calls" : "stop";
    }

    private static void WriteHeader(Utf8JsonWriter writer, CompletionIdentity identity, string type)
    {
        writer.WriteString("id", identity.Id);
        writer.WriteString("object", type);
        writer.WriteNumber("created", identity.Created);
        writer.WriteString("model", identity.Model);
        if (identity.SystemFingerprint is null)
        {
            writer.WriteNull("system_fingerprint");
        }
        else
        {
            writer.WriteString("system_fingerprint", identity.SystemFingerprint);
        }
    }

    private static void WriteToolCalls(Utf8JsonWriter writer, List<FunctionCallContent> calls, bool withIndex, int firstIndex = 0)
    {
        writer.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            writer.WriteStartObject();
            if (withIndex)
            {
                writer.WriteNumber("index", firstIndex + i);
            }

            writer.WriteString("id", calls[i].CallId);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", calls[i].Name);
            writer.WriteString("arguments", JsonSerializer.Serialize(calls[i].Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.InputTokens);
        writer.WriteNumber("completion_tokens", usage.OutputTokens);
        writer.WriteNumber("total_tokens", usage.InputTokens + usage.OutputTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
