using AgentPlatform.Infrastructure.Tokens;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>A chat request in Microsoft.Extensions.AI's terms, with the text governance counts tokens of.</summary>
public sealed record MappedChatRequest(List<ChatMessage> Messages, ChatOptions Options, List<ChatMessageText> TextForEstimate, string? ExtraTextForEstimate);

/// <summary>Maps OpenAI's chat request body to Microsoft.Extensions.AI, validating what OpenAI validates.</summary>
public static class ChatRequestMapper
{
    private const int MaxMessages = 10_000;
    private const int MaxTools = 128;

    /// <summary>The mapped request, or the reason it is invalid and the parameter at fault.</summary>
    public static (MappedChatRequest? Request, string? Error, string? Param) Map(ChatCompletionRequest body)
    {
        if (string.IsNullOrWhiteSpace(body.Model))
        {
            return Fail("you must provide a model parameter", "model");
        }

        if (body.Messages is not { Count: > 0 } bodyMessages)
        {
            return Fail("'messages' must be a non-empty array.", "messages");
        }

        if (bodyMessages.Count > MaxMessages)
        {
            return Fail($"'messages' has more than {MaxMessages} items.", "messages");
        }

        if (body.N is { } n && n != 1)
        {
            return Fail("Only n = 1 is supported.", "n");
        }

        if (body.Temperature is < 0 or > 2)
        {
            return Fail("'temperature' must be between 0 and 2.", "temperature");
        }

        if (body.TopP is < 0 or > 1)
        {
            return Fail("'top_p' must be between 0 and 1.", "top_p");
        }

        var maxOutput = body.MaxCompletionTokens ?? body.MaxTokens;
        if (maxOutput is < 1)
        {
            return Fail("'max_completion_tokens' must be at least 1.", body.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        }

        var messages = new List<ChatMessage>(bodyMessages.Count);
        var texts = new List<ChatMessageText>(bodyMessages.Count);
        for (var i = 0; i < bodyMessages.Count; i++)
        {
            var (message, text, error) = MapMessage(bodyMessages[i], i);
            if (error is not null)
            {
                return Fail(error, $"messages[{i}]");
            }

            messages.Add(message!);
            texts.Add(text);
        }

        var options = new ChatOptions
        {
            Temperature = body.Temperature,
            TopP = body.TopP,
            MaxOutputTokens = maxOutput,
            Seed = body.Seed,
            PresencePenalty = body.PresencePenalty,
            FrequencyPenalty = body.FrequencyPenalty,
            AllowMultipleToolCalls = body.ParallelToolCalls,
        };

        if (body.Stop is { } stop)
        {
            switch (stop.ValueKind)
            {
                case JsonValueKind.String:
                    options.StopSequences = [stop.GetString()!];
                    break;
                case JsonValueKind.Array when stop.GetArrayLength() <= 4 && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String):
                    options.StopSequences = [.. stop.EnumerateArray().Select(s => s.GetString()!)];
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    return Fail("'stop' must be a string or an array of up to 4 strings.", "stop");
            }
        }

        var extra = new StringBuilder();
        if (body.Tools is { Count: > 0 } tools)
        {
            if (tools.Count > MaxTools)
            {
                return Fail($"'tools' has more than {MaxTools} items.", "tools");
            }

            options.Tools = [];
            for (var i = 0; i < tools.Count; i++)
            {
                var tool = tools[i];
                if (tool.Type != "function" || string.IsNullOrWhiteSpace(tool.Function?.Name))
                {
                    return Fail("Every tool must be {\"type\": \"function\", \"function\": {\"name\": …}}.", $"tools[{i}]");
                }

                var parameters = tool.Function.Parameters is { ValueKind: JsonValueKind.Object } schema ? schema : EmptyObjectSchema;
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(tool.Function.Name, tool.Function.Description, parameters));
                extra.Append(tool.Function.Name).Append(' ').Append(tool.Function.Description).Append(' ').Append(parameters.GetRawText());
            }
        }

        if (body.ToolChoice is { } choice && choice.ValueKind != JsonValueKind.Null)
        {
            var (mode, error) = ToolMode(choice);
            if (error is not null)
            {
                return Fail(error, "tool_choice");
            }

            options.ToolMode = mode;
        }

        if (body.ResponseFormat is { } format)
        {
            switch (format.Type)
            {
                case "text" or null:
                    options.ResponseFormat = ChatResponseFormat.Text;
                    break;
                case "json_object":
                    options.ResponseFormat = ChatResponseFormat.Json;
                    break;
                case "json_schema" when format.JsonSchema?.Schema is { ValueKind: JsonValueKind.Object } schema:
                    options.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, format.JsonSchema.Name, format.JsonSchema.Description);
                    if (format.JsonSchema.Strict is { } strict)
                    {
                        (options.AdditionalProperties ??= [])["strict"] = strict;
                    }

                    extra.Append(schema.GetRawText());
                    break;
                case "json_schema":
                    return Fail("'response_format.json_schema.schema' must be a JSON schema object.", "response_format");
                default:
                    return Fail($"'response_format.type' must be 'text', 'json_object' or 'json_schema', not '{format.Type}'.", "response_format");
            }
        }

        return (new MappedChatRequest(messages, options, texts, extra.Length == 0 ? null : extra.ToString()), null, null);
    }

    private static (ChatMessage? Message, ChatMessageText Text, string? Error) MapMessage(ChatMessageBody body, int index)
    {
        var role = body.Role switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            _ => (ChatRole?)null,
        };
        if (role is not { } chatRole)
        {
            return (null, default, $"messages[{index}].role must be 'system', 'developer', 'user', 'assistant' or 'tool'.");
        }

        var contents = new List<AIContent>();
        var text = new StringBuilder();
        if (body.Content is { } content)
        {
            switch (content.ValueKind)
            {
                case JsonValueKind.String:
                    text.Append(content.GetString());
                    break;
                case JsonValueKind.Array:
                    foreach (var part in content.EnumerateArray())
                    {
                        var error = MapPart(part, index, contents, text);
                        if (error is not null)
                        {
                            return (null, default, error);
                        }
                    }

                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    return (null, default, $"messages[{index}].content must be a string or an array of content parts.");
            }
        }

        if (chatRole == ChatRole.Tool)
        {
            if (string.IsNullOrEmpty(body.ToolCallId))
            {
                return (null, default, $"messages[{index}]: a tool message needs 'tool_call_id'.");
            }

            contents.Clear();
            contents.Add(new FunctionResultContent(body.ToolCallId, text.ToString()));
        }
        else if (text.Length > 0 && contents.Count == 0)
        {
            contents.Add(new TextContent(text.ToString()));
        }

        foreach (var call in body.ToolCalls ?? [])
        {
            if (chatRole != ChatRole.Assistant || string.IsNullOrEmpty(call.Id) || string.IsNullOrEmpty(call.Function?.Name))
            {
                return (null, default, $"messages[{index}].tool_calls: only assistant messages have tool calls, each with 'id' and 'function.name'.");
            }

            Dictionary<string, object?>? arguments;
            try
            {
                arguments = string.IsNullOrWhiteSpace(call.Function.Arguments)
                    ? []
                    : JsonSerializer.Deserialize(call.Function.Arguments, OpenAiJsonContext.Default.DictionaryStringObject);
            }
            catch (JsonException)
            {
                return (null, default, $"messages[{index}].tool_calls: the arguments of '{call.Id}' are not a JSON object.");
            }

            contents.Add(new FunctionCallContent(call.Id, call.Function.Name, arguments));
            text.Append(call.Function.Name).Append(call.Function.Arguments);
        }

        if (contents.Count == 0 && chatRole != ChatRole.Assistant)
        {
            return (null, default, $"messages[{index}] has no content.");
        }

        return (new ChatMessage(chatRole, contents) { AuthorName = body.Name }, new ChatMessageText(body.Role!, text.ToString(), body.Name), null);
    }

    private static string? MapPart(JsonElement part, int index, List<AIContent> contents, StringBuilder text)
    {
        var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text" when part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String:
                contents.Add(new TextContent(value.GetString()));
                text.Append(value.GetString());
                return null;
            case "image_url" when part.TryGetProperty("image_url", out var image) && image.ValueKind == JsonValueKind.Object
                && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String:
                var address = url.GetString()!;
                if (address.StartsWith("data:", StringComparison.Ordinal))
                {
                    try
                    {
                        contents.Add(new DataContent(address));
                    }
                    catch (FormatException)
                    {
                        return $"messages[{index}]: an image data URI is not valid.";
                    }
                }
                else if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    contents.Add(new UriContent(uri, "image/*"));
                }
                else
                {
                    return $"messages[{index}]: an image_url must be an http(s) URL or a data URI.";
                }

                return null;
            default:
                return $"messages[{index}]: content parts must be of type 'text' or 'image_url'.";
        }
    }

    private static (ChatToolMode? Mode, string? Error) ToolMode(JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "none" => (ChatToolMode.None, null),
                "auto" => (ChatToolMode.Auto, null),
                "required" => (ChatToolMode.RequireAny, null),
                var other => (null, $"'tool_choice' must be 'none', 'auto', 'required' or a function, not '{other}'."),
            };
        }

        if (choice.ValueKind == JsonValueKind.Object
            && choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
            && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            return (ChatToolMode.RequireSpecific(name.GetString()!), null);
        }

        return (null, "'tool_choice' must be 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.");
    }

    private static readonly JsonElement EmptyObjectSchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;

    private static (MappedChatRequest?, string?, string?) Fail(string message, string param) => (null, message, param);
}
