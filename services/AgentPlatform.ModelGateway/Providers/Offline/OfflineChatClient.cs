using AgentPlatform.Infrastructure.Tokens;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.Providers.Offline;

/// <summary>
/// The built-in offline model: lets the platform run end to end with no key and no network. Replies are deterministic
/// (every choice derives from a SHA-256 of the messages and options), carry
/// <c>AdditionalProperties["agentplatform.offline"] = true</c>, ids prefixed <c>chatcmpl-offline-</c>, and usage counted
/// with the <see cref="ITokenEstimator"/>.
/// <para><b>Output.</b> Plain text starts with <c>[offline]</c> and restates the last user message. A JSON response format
/// with a schema yields an instance valid against it (see <see cref="JsonSchemaInstanceGenerator"/> for the supported
/// keywords); <c>json_object</c> without a schema yields a JSON object.</para>
/// <para><b>Structured prompt convention.</b> A system or user message containing one of <c>[agentplatform:plan]</c>,
/// <c>[agentplatform:route]</c>, <c>[agentplatform:answer]</c>, <c>[agentplatform:aggregate]</c> or
/// <c>[agentplatform:judge]</c> gets a meaningful answer built from the prompt, returned as JSON (fitted to the schema
/// when there is one, matching property names by common aliases, e.g. <c>subtasks</c>/<c>steps</c>,
/// <c>agentId</c>/<c>agent</c>/<c>subAgentId</c>, <c>reason</c>/<c>rationale</c>, <c>passed</c>/<c>pass</c>):</para>
/// <list type="bullet">
/// <item><c>plan</c>: the last user message (or the text after a <c>Task:</c> label) is split into clauses at sentence
/// ends, semicolons, new lines and "then"; each becomes a subtask <c>{ id, description, domain, dependsOn }</c>.
/// Natural shape: <c>{ goal, subtasks[], summary }</c>. Domain: the best candidate (below) if listed, else a keyword guess
/// (coding, research, math, writing, data, general).</item>
/// <item><c>route</c>: candidates are bullet lines <c>- agent-id: description</c> (or <c>- agent-id - description</c>) in
/// the system or user message; subtasks are numbered lines <c>1. …</c> in the user message (else the whole request). Each
/// subtask goes to the candidate whose id and description share the most keywords (ties: the first listed), with
/// <c>confidence</c> in [0.1, 0.95]. Natural shape: <c>{ agentId, confidence, reason, routes[{ subtaskId, subtask,
/// agentId, confidence, reason }] }</c>.</item>
/// <item><c>answer</c>: <c>{ answer, confidence }</c>; uses a <c>Context:</c> section or a tool result when present.</item>
/// <item><c>aggregate</c>: sub-results are bullet or numbered lines of the user message (<c>- source: result</c> names the
/// source); natural shape <c>{ summary, sources[], results[{ source, result }] }</c>.</item>
/// <item><c>judge</c>: reads labelled sections <c>Question:</c>, <c>Expected:</c> (or Reference/Criteria) and
/// <c>Answer:</c> (or Response/Output); <c>score</c> is the share of expected keywords found in the answer (0–1, scaled to
/// the schema's bounds, e.g. 1–5), <c>passed</c> is score ≥ 0.5, <c>reason</c> explains.</item>
/// </list>
/// <para><b>Tools.</b> With function tools and <see cref="RequiredChatToolMode"/> (or a tool named in the last user message,
/// unless <see cref="NoneChatToolMode"/>), and no tool result since the last user message, the reply is one
/// <see cref="FunctionCallContent"/> whose arguments fit the tool's schema (<c>key: value</c> pairs in the user message fill
/// matching parameters). After a tool result the reply uses that result.</para>
/// </summary>
public sealed partial class OfflineChatClient(string modelName, ITokenEstimator tokenEstimator) : IChatClient
{
    public const string OfflinePropertyName = "agentplatform.offline";

    public const string IdPrefix = "chatcmpl-offline-";

    public const string ProviderName = "agentplatform-offline";

    private static readonly JsonSerializerOptions CompactJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    private readonly ChatClientMetadata metadata = new(ProviderName, null, modelName);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var reply = Compose(messages.ToList(), options);
        var message = new ChatMessage(ChatRole.Assistant, [reply.Content]) { MessageId = reply.Id };
        return Task.FromResult(new ChatResponse(message)
        {
            ResponseId = reply.Id,
            ModelId = modelName,
            FinishReason = reply.FinishReason,
            Usage = reply.Usage(),
            AdditionalProperties = OfflineProperties(),
        });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reply = Compose(messages.ToList(), options);
        var chunks = reply.Content is TextContent text ? Chunk(text.Text) : [];
        IEnumerable<AIContent> parts = reply.Content is TextContent ? chunks.Select(c => new TextContent(c)) : [reply.Content];
        foreach (var part in parts)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return Update(reply, [part]);
            await Task.Yield();
        }

        var last = Update(reply, [new UsageContent(reply.Usage())]);
        last.FinishReason = reply.FinishReason;
        yield return last;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
    }

    private ChatResponseUpdate Update(Reply reply, IList<AIContent> contents) => new(ChatRole.Assistant, contents)
    {
        ResponseId = reply.Id,
        MessageId = reply.Id,
        ModelId = modelName,
        AdditionalProperties = OfflineProperties(),
    };

    private static AdditionalPropertiesDictionary OfflineProperties() => new() { [OfflinePropertyName] = true };

    private Reply Compose(List<ChatMessage> messages, ChatOptions? options)
    {
        var seed = Hash(messages, options);
        var id = IdPrefix + Convert.ToHexStringLower(seed.AsSpan(0, 12));
        var inputTokens = tokenEstimator.CountChatTokens(
            messages.Select(m => new ChatMessageText(m.Role.Value, MessageText(m), m.AuthorName)),
            ExtraText(options));

        var lastUser = messages.FindLastIndex(m => m.Role == ChatRole.User);
        var userText = lastUser >= 0 ? messages[lastUser].Text : "";
        var toolResult = messages.Skip(lastUser + 1).SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();

        var functions = options?.Tools?.OfType<AIFunctionDeclaration>().ToList() ?? [];
        if (toolResult is null && lastUser >= 0 && ChooseTool(functions, options?.ToolMode, userText) is { } tool)
        {
            var arguments = JsonSchemaInstanceGenerator.Generate(tool.JsonSchema, ArgumentHints(userText), seed) as JsonObject ?? [];
            var argumentValues = arguments.ToDictionary(p => p.Key, p => (object?)JsonSerializer.SerializeToElement(p.Value, CompactJson));
            var call = new FunctionCallContent("call_offline_" + Convert.ToHexStringLower(seed.AsSpan(12, 8)), tool.Name, argumentValues);
            var outputTokens = tokenEstimator.CountTokens(tool.Name) + tokenEstimator.CountTokens(arguments.ToJsonString(CompactJson));
            return new Reply(id, call, ChatFinishReason.ToolCalls, inputTokens, outputTokens);
        }

        var resultText = toolResult is null ? null : ResultText(toolResult);
        var systemText = string.Join("\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        var marker = OfflinePromptInterpreter.FindMarker(messages.Where(m => m.Role == ChatRole.System || m.Role == ChatRole.User).Select(m => m.Text));
        JsonNode natural = marker is null
            ? JsonValue.Create(PlainText(userText, resultText, toolResult, messages))
            : OfflinePromptInterpreter.Interpret(marker, systemText, userText, resultText);

        var output = options?.ResponseFormat switch
        {
            ChatResponseFormatJson { Schema: { } schema } => JsonSchemaInstanceGenerator.Generate(schema, natural, seed)?.ToJsonString(CompactJson) ?? "null",
            ChatResponseFormatJson => (natural as JsonObject ?? new JsonObject { ["answer"] = natural.DeepClone(), [OfflinePropertyName] = true }).ToJsonString(CompactJson),
            _ => natural is JsonObject ? natural.ToJsonString(CompactJson) : natural.GetValue<string>(),
        };

        return new Reply(id, new TextContent(output), ChatFinishReason.Stop, inputTokens, tokenEstimator.CountTokens(output));
    }

    private static string PlainText(string userText, string? resultText, FunctionResultContent? toolResult, List<ChatMessage> messages)
    {
        if (toolResult is not null)
        {
            var name = messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().LastOrDefault(c => c.CallId == toolResult.CallId)?.Name ?? "the tool";
            return $"[offline] {name} returned: {OfflinePromptInterpreter.Shorten(resultText ?? "", 500)}";
        }

        return string.IsNullOrWhiteSpace(userText)
            ? "[offline] There is no user message to answer."
            : $"[offline] You asked: \"{OfflinePromptInterpreter.Shorten(userText, 200)}\". This deterministic reply comes from the built-in offline model; configure a model provider for real answers.";
    }

    private static AIFunctionDeclaration? ChooseTool(List<AIFunctionDeclaration> functions, ChatToolMode? mode, string userText)
    {
        if (functions.Count == 0 || mode is NoneChatToolMode)
        {
            return null;
        }

        if (mode is RequiredChatToolMode { RequiredFunctionName: { } required })
        {
            return functions.FirstOrDefault(f => f.Name == required);
        }

        var named = functions
            .Select(f => (Function: f, Position: Regex.Match(userText, $@"(?<![\w-]){Regex.Escape(f.Name)}(?![\w-])", RegexOptions.IgnoreCase).Index))
            .Where(f => f.Position > 0 || userText.StartsWith(f.Function.Name, StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.Position)
            .Select(f => f.Function)
            .FirstOrDefault();
        if (named is not null || mode is not RequiredChatToolMode)
        {
            return named;
        }

        var words = OfflinePromptInterpreter.Keywords(userText);
        return functions.MaxBy(f => words.Intersect(OfflinePromptInterpreter.Keywords(f.Name.Replace('_', ' ') + " " + f.Description)).Count()
            * functions.Count - functions.IndexOf(f));
    }

    private static JsonObject ArgumentHints(string userText)
    {
        var hints = new JsonObject { ["text"] = userText };
        foreach (Match pair in KeyValuePattern().Matches(userText))
        {
            hints[pair.Groups["key"].Value] = pair.Groups["value"].Value.Trim();
        }

        return hints;
    }

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null => "null",
        string text => text,
        JsonElement element => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText(),
        var other => JsonSerializer.Serialize(other, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(object))),
    };

    private static string MessageText(ChatMessage message)
    {
        var builder = new StringBuilder(message.Text);
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case FunctionCallContent call:
                    builder.Append(call.Name).Append(JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))));
                    break;
                case FunctionResultContent result:
                    builder.Append(ResultText(result));
                    break;
            }
        }

        return builder.ToString();
    }

    private static string? ExtraText(ChatOptions? options)
    {
        var builder = new StringBuilder();
        foreach (var function in options?.Tools?.OfType<AIFunctionDeclaration>() ?? [])
        {
            builder.Append(function.Name).Append('\n').Append(function.Description).Append('\n').Append(function.JsonSchema.GetRawText()).Append('\n');
        }

        if (options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema })
        {
            builder.Append(schema.GetRawText());
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    private static byte[] Hash(List<ChatMessage> messages, ChatOptions? options)
    {
        var canonical = new StringBuilder();
        foreach (var message in messages)
        {
            canonical.Append(message.Role.Value).Append('\u001f').Append(message.AuthorName).Append('\u001f').Append(MessageText(message)).Append('\u001e');
            foreach (var call in message.Contents.OfType<FunctionCallContent>())
            {
                canonical.Append(call.CallId).Append('\u001f');
            }

            foreach (var result in message.Contents.OfType<FunctionResultContent>())
            {
                canonical.Append(result.CallId).Append('\u001f');
            }
        }

        canonical.Append('\u001d').Append(ExtraText(options)).Append('\u001d').Append(options?.ToolMode switch
        {
            RequiredChatToolMode { RequiredFunctionName: { } name } => "require:" + name,
            RequiredChatToolMode => "require",
            NoneChatToolMode => "none",
            _ => "auto",
        }).Append('\u001d').Append(options?.ResponseFormat switch
        {
            ChatResponseFormatJson => "json",
            _ => "text",
        });
        return SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()));
    }

    /// <summary>Splits after each run of whitespace, so the chunks concatenate back to exactly <paramref name="text"/>.</summary>
    private static List<string> Chunk(string text)
    {
        var chunks = new List<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i - 1]) && !char.IsWhiteSpace(text[i]))
            {
                chunks.Add(text[start..i]);
                start = i;
            }
        }

        if (start < text.Length)
        {
            chunks.Add(text[start..]);
        }

        return chunks;
    }

    [GeneratedRegex(@"(?<key>[A-Za-z_][\w]*)\s*[:=]\s*(?<value>[^,;\n]+)")]
    private static partial Regex KeyValuePattern();

    private sealed record Reply(string Id, AIContent Content, ChatFinishReason FinishReason, int InputTokens, int OutputTokens)
    {
        public UsageDetails Usage() => new()
        {
            InputTokenCount = InputTokens,
            OutputTokenCount = OutputTokens,
            TotalTokenCount = InputTokens + OutputTokens,
        };
    }
}
