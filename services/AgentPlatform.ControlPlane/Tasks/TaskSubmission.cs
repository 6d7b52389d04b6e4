using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// A submitted task, read from the raw body: the body's bytes are also its identity for idempotency (their
/// SHA-256 is <see cref="RequestHash"/>), so the body is read whole and parsed here instead of bound.
/// </summary>
internal sealed partial record TaskSubmission(
    byte[]? Input,
    string? InputContentType,
    string? ContextRefId,
    IReadOnlyList<string> SubAgents,
    int? TokenBudget,
    int Priority,
    string RequestHash)
{
    public const int DefaultPriority = 5;
    public const int MaxPriority = 9;
    public const int MaxTokenBudget = 10_000_000;
    public const int MaxSubAgents = 10;
    // \z, not $: a trailing newline is not part of an id.
    public const string SubAgentPattern = @"^[a-z0-9][a-z0-9-]{0,62}\z";
    public const int MaxIdempotencyKeyLength = 200;
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private const int MaxReferenceLength = 100;

    // Strict: numbers are numbers, names are exact; fields the API does not know are ignored like elsewhere.
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>The submission, or the field errors that make it invalid.</summary>
    public static (TaskSubmission? Submission, Dictionary<string, string[]>? Errors) Parse(byte[] body)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var messages))
            {
                errors[field] = messages = [];
            }

            messages.Add(message);
        }

        // Parsed first, so a syntax error is told apart from a field of the wrong type.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return (null, Errors("body", "The body is not valid JSON."));
        }

        SubmitTaskRequest request;
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Errors("body", "The body is a JSON object with the task's input."));
            }

            try
            {
                request = document.Deserialize<SubmitTaskRequest>(Json)!;
            }
            catch (JsonException exception)
            {
                var field = exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
                return (null, Errors(field, "This value has the wrong type."));
            }
        }

        var (input, contentType) = ReadInput(request, Add);
        var reference = request.ContextRefId;
        if (reference is not null && (reference.Length is 0 or > MaxReferenceLength || !IsPrintableAscii(reference)))
        {
            Add("context_ref_id", "This is not a claim-check reference id.");
        }

        var subAgents = request.SubAgents ?? [];
        if (subAgents.Count > MaxSubAgents)
        {
            Add("sub_agents", $"Suggest at most {MaxSubAgents} sub-agents.");
        }

        for (var i = 0; i < subAgents.Count; i++)
        {
            if (subAgents[i] is not { } subAgent || !SubAgentRegex().IsMatch(subAgent))
            {
                Add($"sub_agents[{i}]", "A sub-agent id is lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters.");
            }
        }

        if (subAgents.Distinct(StringComparer.Ordinal).Count() != subAgents.Count)
        {
            Add("sub_agents", "A sub-agent is listed twice.");
        }

        if (request.TokenBudget is < 1 or > MaxTokenBudget)
        {
            Add("token_budget", $"The token budget is between 1 and {MaxTokenBudget}.");
        }

        if (request.Priority is < 0 or > MaxPriority)
        {
            Add("priority", $"The priority is between 0 (lowest) and {MaxPriority}.");
        }

        if (errors.Count > 0)
        {
            return (null, errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }

        return (new TaskSubmission(
            input,
            contentType,
            reference,
            [.. subAgents],
            request.TokenBudget,
            request.Priority ?? DefaultPriority,
            Convert.ToHexStringLower(SHA256.HashData(body))), null);
    }

    /// <summary>An error message when the header's value cannot be an idempotency key, else null.</summary>
    public static string? ValidateIdempotencyKey(string key) =>
        key.Length is 0 or > MaxIdempotencyKeyLength || !IsPrintableAscii(key)
            ? $"The {IdempotencyKeyHeader} is 1 to {MaxIdempotencyKeyLength} printable ASCII characters."
            : null;

    // A string is text, an object or array is JSON (kept as sent); the stored bytes are UTF-8 either way.
    private static (byte[]? Content, string? ContentType) ReadInput(SubmitTaskRequest request, Action<string, string> add)
    {
        var input = request.Input is { ValueKind: not JsonValueKind.Null } value ? value : (JsonElement?)null;
        if (input is null)
        {
            if (request.ContextRefId is null)
            {
                add("input", "Send the task's input, or a claim-check reference to it in context_ref_id.");
            }

            return (null, null);
        }

        if (request.ContextRefId is not null)
        {
            add("input", "Send either input or context_ref_id, not both.");
            return (null, null);
        }

        switch (input.Value.ValueKind)
        {
            case JsonValueKind.Object or JsonValueKind.Array:
                return (Encoding.UTF8.GetBytes(input.Value.GetRawText()), InlineContent.Json);

            case JsonValueKind.String:
                string text;
                try
                {
                    text = input.Value.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    add("input", "The input is not valid Unicode text.");
                    return (null, null);
                }

                if (string.IsNullOrWhiteSpace(text))
                {
                    add("input", "The input is empty.");
                }
                else if (text.Contains('\0', StringComparison.Ordinal))
                {
                    add("input", "Text input cannot contain NUL characters; send binary content as a claim-check reference.");
                }

                return (Encoding.UTF8.GetBytes(text), InlineContent.Text);

            default:
                add("input", "The input is a string (text) or a JSON object or array.");
                return (null, null);
        }
    }

    private static bool IsPrintableAscii(string value) => value.All(c => c is >= ' ' and <= '~');

    private static Dictionary<string, string[]> Errors(string field, string message) => new(StringComparer.Ordinal) { [field] = [message] };

    [GeneratedRegex(SubAgentPattern)]
    private static partial Regex SubAgentRegex();
}
