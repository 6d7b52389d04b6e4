using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>One answer of the model gateway, read completely.</summary>
public sealed record ModelAnswer(HttpStatusCode Status, string Text, IReadOnlyDictionary<string, string> Headers)
{
    public JsonElement Json => JsonDocument.Parse(Text).RootElement.Clone();

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;

    public string Content => Json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    public string Describe => $"{(int)Status} {Text} [{string.Join(", ", Headers.Where(h => h.Key.StartsWith("x-", StringComparison.Ordinal)).Select(h => $"{h.Key}={h.Value}"))}]";

    /// <summary>Asserts OpenAI's error shape and returns the error object.</summary>
    public JsonElement AssertOpenAiError(HttpStatusCode status, string? code = null, string? type = null)
    {
        Assert.True(Status == status, $"Expected {(int)status}, got {Describe}");
        var error = Json.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.True(error.TryGetProperty("type", out _), $"error.type missing: {Text}");
        Assert.True(error.TryGetProperty("param", out _), $"error.param missing: {Text}");
        Assert.True(error.TryGetProperty("code", out _), $"error.code missing: {Text}");
        if (code is not null)
        {
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        if (type is not null)
        {
            Assert.Equal(type, error.GetProperty("type").GetString());
        }

        return error;
    }
}

/// <summary>One SSE answer: the parsed <c>data:</c> chunks, whether <c>[DONE]</c> came, and whether the connection broke.</summary>
public sealed record StreamAnswer(HttpStatusCode Status, IReadOnlyList<JsonElement> Chunks, bool Done, Exception? Broken, IReadOnlyDictionary<string, string> Headers, string? ContentType, string ErrorText)
{
    public string Text => string.Concat(Chunks
        .Where(c => c.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
        .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
        .Select(d => d.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : ""));

    public string? FinishReason => Chunks
        .Where(c => c.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
        .Select(c => c.GetProperty("choices")[0])
        .Where(choice => choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
        .Select(choice => choice.GetProperty("finish_reason").GetString())
        .LastOrDefault();

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;

    public string Describe => $"{(int)Status} chunks={Chunks.Count} done={Done} broken={Broken?.Message} {ErrorText}";
}

/// <summary>Calls the OpenAI-compatible API the way any HTTP client would.</summary>
public static class ModelApi
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static JsonObject Chat(string model, string userMessage, bool stream = false) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = userMessage } },
        ["stream"] = stream,
    };

    public static JsonObject WithUsage(this JsonObject request)
    {
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        return request;
    }

    public static Task<ModelAnswer> ChatAsync(this HttpClient client, JsonObject request, IReadOnlyDictionary<string, string>? headers = null) =>
        client.SendModelAsync(HttpMethod.Post, "/v1/chat/completions", request.ToJsonString(), headers);

    public static Task<ModelAnswer> EmbeddingsAsync(this HttpClient client, JsonObject request) =>
        client.SendModelAsync(HttpMethod.Post, "/v1/embeddings", request.ToJsonString());

    public static Task<ModelAnswer> ModelsAsync(this HttpClient client) => client.SendModelAsync(HttpMethod.Get, "/v1/models", null);

    public static async Task<ModelAnswer> SendModelAsync(this HttpClient client, HttpMethod method, string path, string? body, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return new ModelAnswer(response.StatusCode, text, HeadersOf(response));
    }

    public static async Task<StreamAnswer> ChatStreamAsync(this HttpClient client, JsonObject request, IReadOnlyDictionary<string, string>? headers = null)
    {
        request["stream"] = true;
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            message.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, Ct);
        var chunks = new List<JsonElement>();
        var done = false;
        Exception? broken = null;
        var errorText = "";
        if (!response.IsSuccessStatusCode)
        {
            errorText = await response.Content.ReadAsStringAsync(Ct);
            return new StreamAnswer(response.StatusCode, chunks, done, broken, HeadersOf(response), response.Content.Headers.ContentType?.MediaType, errorText);
        }

        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
            while (await reader.ReadLineAsync(Ct) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line["data:".Length..].Trim();
                Assert.False(done, $"A chunk came after [DONE]: {data}");
                if (data == "[DONE]")
                {
                    done = true;
                    continue;
                }

                chunks.Add(JsonDocument.Parse(data).RootElement.Clone());
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            broken = exception;
        }

        return new StreamAnswer(response.StatusCode, chunks, done, broken, HeadersOf(response), response.Content.Headers.ContentType?.MediaType, errorText);
    }

    public static async Task<string> CreateApiKeyAsync(this HttpClient admin, params string[] roles)
    {
        var (key, _) = await admin.CreateApiKeyWithIdAsync(roles);
        return key;
    }

    public static async Task<(string Key, string Id)> CreateApiKeyWithIdAsync(this HttpClient admin, params string[] roles)
    {
        using var created = await admin.PostAsJsonAsync(
            "/api/api-keys",
            new { name = $"model-gateway-{Guid.NewGuid():N}"[..24], roles, expiresAt = DateTimeOffset.UtcNow.AddDays(1) },
            Ct);
        var text = await created.Content.ReadAsStringAsync(Ct);
        Assert.True(created.StatusCode == HttpStatusCode.Created, text);
        var body = JsonDocument.Parse(text).RootElement;
        return (body.GetProperty("key").GetString()!, body.GetProperty("id").GetString()!);
    }

    private static Dictionary<string, string> HeadersOf(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers)
            .GroupBy(h => h.Key.ToLowerInvariant(), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => string.Join(",", g.SelectMany(h => h.Value)), StringComparer.Ordinal);

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
