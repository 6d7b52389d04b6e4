using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPlatform.Testing.ModelUpstream;

/// <summary>OpenAI's JSON shapes, exactly as api.openai.com writes them, for the scripted upstream.</summary>
internal static class OpenAiWire
{
    public const string SystemFingerprint = "fp_scripted";

    public static string ContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return "";
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString() ?? "",
            JsonValueKind.Array => string.Join(
                " ",
                content.EnumerateArray()
                    .Where(part => part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    .Select(part => part.GetProperty("text").GetString())),
            _ => "",
        };
    }

    public static int Words(string? text) =>
        string.IsNullOrWhiteSpace(text) ? 0 : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    public static JsonObject Error(string message, string? type, string? param, string? code)
    {
        var error = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        };
        if (code == "content_filter")
        {
            // Azure's shape: the filter's verdict per category under innererror.
            error["status"] = 400;
            error["innererror"] = new JsonObject
            {
                ["code"] = "ResponsibleAIPolicyViolation",
                ["content_filter_result"] = new JsonObject
                {
                    ["hate"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
                    ["self_harm"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
                    ["sexual"] = new JsonObject { ["filtered"] = false, ["severity"] = "safe" },
                    ["violence"] = new JsonObject { ["filtered"] = true, ["severity"] = "high" },
                },
            };
        }

        return new JsonObject { ["error"] = error };
    }

    public static JsonObject Usage(int promptTokens, int completionTokens, int cachedTokens) => new()
    {
        ["prompt_tokens"] = promptTokens,
        ["completion_tokens"] = completionTokens,
        ["total_tokens"] = promptTokens + completionTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = cachedTokens, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject
        {
            ["reasoning_tokens"] = 0,
            ["audio_tokens"] = 0,
            ["accepted_prediction_tokens"] = 0,
            ["rejected_prediction_tokens"] = 0,
        },
    };

    public static JsonObject Completion(string id, long created, string model, JsonObject message, string finishReason, JsonObject usage) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray
        {
            new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = finishReason,
            },
        },
        ["usage"] = usage,
        ["service_tier"] = "default",
        ["system_fingerprint"] = SystemFingerprint,
    };

    public static JsonObject Chunk(string id, long created, string model, JsonObject? delta, string? finishReason, bool includeUsage, JsonObject? usage = null)
    {
        var chunk = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["service_tier"] = "default",
            ["system_fingerprint"] = SystemFingerprint,
            ["choices"] = delta is null
                ? new JsonArray()
                : new JsonArray
                {
                    new JsonObject
                    {
                        ["index"] = 0,
                        ["delta"] = delta,
                        ["logprobs"] = null,
                        ["finish_reason"] = finishReason,
                    },
                },
        };
        if (includeUsage)
        {
            // With include_usage OpenAI writes "usage": null on every chunk but the last.
            chunk["usage"] = usage;
        }

        return chunk;
    }

    public static JsonObject ToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    public static JsonObject Model(string id, long created) => new()
    {
        ["id"] = id,
        ["object"] = "model",
        ["created"] = created,
        ["owned_by"] = "scripted-upstream",
    };

    /// <summary>A deterministic unit vector for <paramref name="text"/>: the same text always embeds the same.</summary>
    public static float[] Embed(string text, int dimensions)
    {
        var vector = new float[dimensions];
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (seed[i % seed.Length] - 127.5f) / 127.5f + (i / (float)dimensions);
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] /= norm;
        }

        return vector;
    }

    /// <summary>OpenAI's <c>encoding_format: base64</c>: the little-endian float32 bytes, base64-encoded.</summary>
    public static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
