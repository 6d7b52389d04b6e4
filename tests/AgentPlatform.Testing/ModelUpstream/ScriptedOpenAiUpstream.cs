using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Testing.ModelUpstream;

/// <summary>
/// A model provider for tests: a real HTTP server on a loopback port that speaks OpenAI's wire format
/// (<c>POST /v1/chat/completions</c> plain and SSE, <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>) and does
/// what each model's script says: reply, call a tool, fail the way OpenAI and Azure fail, wait, or break the
/// stream. Without a script it answers deterministically, echoing the last user message. Every request is
/// recorded in <see cref="Calls"/> so tests can assert which deployment was (not) called.
/// </summary>
public sealed class ScriptedOpenAiUpstream : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<UpstreamStep>> scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> knownModels = new(StringComparer.Ordinal);
    private readonly Lock callsLock = new();
    private readonly List<UpstreamCall> calls = [];
    private WebApplication app = null!;
    private long sequence;

    private ScriptedOpenAiUpstream()
    {
    }

    /// <summary>The OpenAI base address, ending in <c>/v1/</c>, e.g. <c>http://127.0.0.1:41234/v1/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Added before every response (also errors); for benchmarks and timeout tests.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>
    /// A further random wait before every response, uniform between zero and this, on top of <see cref="Latency"/>:
    /// a model's answer time varies from call to call.
    /// </summary>
    public TimeSpan LatencyJitter { get; set; }

    /// <summary>Whether requests are kept in <see cref="Calls"/>; off for a long-running benchmark server.</summary>
    public bool RecordCalls { get; set; } = true;

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<UpstreamCall> Calls
    {
        get
        {
            lock (callsLock)
            {
                return [.. calls];
            }
        }
    }

    public static Task<ScriptedOpenAiUpstream> StartAsync(CancellationToken cancellationToken) => StartAsync(port: 0, cancellationToken);

    /// <summary>Starts the server on 127.0.0.1:<paramref name="port"/> (0 picks a free port).</summary>
    public static async Task<ScriptedOpenAiUpstream> StartAsync(int port, CancellationToken cancellationToken)
    {
        var upstream = new ScriptedOpenAiUpstream();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        upstream.app = builder.Build();
        upstream.app.Run(upstream.HandleAsync);
        await upstream.app.StartAsync(cancellationToken);
        var address = upstream.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.BaseAddress = new Uri(new Uri(address), "/v1/");
        return upstream;
    }

    /// <summary>
    /// Appends <paramref name="steps"/> to <paramref name="model"/>'s script: each request for that model takes
    /// the next step; once they are used up the model answers with the default reply.
    /// </summary>
    public void Script(string model, params UpstreamStep[] steps)
    {
        knownModels.TryAdd(model, 0);
        var queue = scripts.GetOrAdd(model, _ => new ConcurrentQueue<UpstreamStep>());
        foreach (var step in steps)
        {
            queue.Enqueue(step);
        }
    }

    /// <summary>The requests received for <paramref name="model"/>, in arrival order.</summary>
    public IReadOnlyList<UpstreamCall> CallsFor(string model) => [.. Calls.Where(call => call.Model == model)];

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var request = context.Request;
        var path = request.Path.Value ?? "";
        JsonElement body = default;
        if (HttpMethods.IsPost(request.Method))
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                body = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                Record(context, path, body);
                await WriteErrorAsync(context, 400, "invalid_request_error", null, null, "We could not parse the JSON body of your request.", null);
                return;
            }
        }

        var call = Record(context, path, body);
        context.Response.Headers["x-request-id"] = $"req_{Interlocked.Increment(ref sequence)}";
        try
        {
            var latency = Latency + (LatencyJitter > TimeSpan.Zero ? Random.Shared.NextDouble() * LatencyJitter : TimeSpan.Zero);
            if (latency > TimeSpan.Zero)
            {
                await PreciseDelay.DelayAsync(latency, cancellationToken);
            }

            switch (request.Method, path)
            {
                case ("GET", "/v1/models"):
                    await WriteModelsAsync(context);
                    break;
                case ("POST", "/v1/chat/completions"):
                    await ChatAsync(context, call, body);
                    break;
                case ("POST", "/v1/embeddings"):
                    await EmbeddingsAsync(context, call, body);
                    break;
                default:
                    await WriteErrorAsync(context, 404, "invalid_request_error", null, null, $"Invalid URL ({request.Method} {path})", null);
                    break;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up (a gateway timeout): nothing is left to answer.
        }
    }

    private UpstreamCall Record(HttpContext context, string path, JsonElement body)
    {
        string? model = null;
        var stream = false;
        if (body.ValueKind == JsonValueKind.Object)
        {
            model = body.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        }

        if (model is not null)
        {
            knownModels.TryAdd(model, 0);
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        var call = new UpstreamCall(path, model, stream, body, headers, DateTimeOffset.UtcNow);
        if (RecordCalls)
        {
            lock (callsLock)
            {
                calls.Add(call);
            }
        }

        return call;
    }

    private UpstreamStep? NextStep(string model) =>
        scripts.TryGetValue(model, out var queue) && queue.TryDequeue(out var step) ? step : null;

    private async Task ChatAsync(HttpContext context, UpstreamCall call, JsonElement body)
    {
        if (call.Model is null)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "model", null, "you must provide a model parameter", null);
            return;
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "messages", null, "Missing required parameter: 'messages'.", null);
            return;
        }

        var includeUsage = call.Stream
            && body.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include)
            && include.ValueKind == JsonValueKind.True;
        var promptWords = messages.EnumerateArray().Sum(message => OpenAiWire.Words(OpenAiWire.ContentText(message)));
        var step = NextStep(call.Model);
        while (step is DelayStep delay)
        {
            await Task.Delay(delay.Duration, context.RequestAborted);
            step = delay.Then;
        }

        var defaultText = $"Scripted reply to: {call.LastUserMessage}";
        var chat = new ChatAnswer(context, $"chatcmpl-{Guid.NewGuid():N}", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), call.Model, call.Stream, includeUsage);
        switch (step)
        {
            case ErrorStep error:
                await WriteErrorAsync(context, error.StatusCode, error.Type, error.Param, error.Code, error.Message, error.RetryAfter);
                break;
            case BrokenStreamStep broken:
                await chat.BreakAsync(defaultText, broken.AfterChunks);
                break;
            case ContentFilterFinishStep:
                await chat.AnswerAsync(null, null, "content_filter", OpenAiWire.Usage(promptWords, 0, 0));
                break;
            case ToolCallStep tool:
                await chat.AnswerAsync(null, (tool.Name, tool.ArgumentsJson), "tool_calls", OpenAiWire.Usage(promptWords, OpenAiWire.Words(tool.ArgumentsJson), 0));
                break;
            case ReplyStep reply:
                await chat.AnswerAsync(
                    reply.Text,
                    null,
                    "stop",
                    OpenAiWire.Usage(reply.PromptTokens ?? promptWords, reply.CompletionTokens ?? OpenAiWire.Words(reply.Text), reply.CachedTokens));
                break;
            default:
                await chat.AnswerAsync(defaultText, null, "stop", OpenAiWire.Usage(promptWords, OpenAiWire.Words(defaultText), 0));
                break;
        }
    }

    private async Task EmbeddingsAsync(HttpContext context, UpstreamCall call, JsonElement body)
    {
        if (call.Model is null)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "model", null, "you must provide a model parameter", null);
            return;
        }

        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "input", null, "'input' is a required property", null);
            return;
        }

        var step = NextStep(call.Model);
        while (step is DelayStep delay)
        {
            await Task.Delay(delay.Duration, context.RequestAborted);
            step = delay.Then;
        }

        if (step is ErrorStep error)
        {
            await WriteErrorAsync(context, error.StatusCode, error.Type, error.Param, error.Code, error.Message, error.RetryAfter);
            return;
        }

        if (step is BrokenStreamStep)
        {
            await context.Response.WriteAsync("{\"object\":\"list\",\"data\":[{\"object\":", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            context.Abort();
            return;
        }

        string[] texts = input.ValueKind == JsonValueKind.String
            ? [input.GetString()!]
            : [.. input.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText())];
        var dimensions = body.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : 64;
        var base64 = body.TryGetProperty("encoding_format", out var f) && f.ValueKind == JsonValueKind.String && f.GetString() == "base64";
        var data = new JsonArray();
        for (var i = 0; i < texts.Length; i++)
        {
            var vector = OpenAiWire.Embed(texts[i], dimensions);
            data.Add(new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = base64 ? JsonValue.Create(OpenAiWire.Base64(vector)) : new JsonArray([.. vector.Select(v => (JsonNode?)JsonValue.Create(v))]),
            });
        }

        var promptTokens = step is ReplyStep { PromptTokens: { } scripted } ? scripted : texts.Sum(OpenAiWire.Words);
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = call.Model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["total_tokens"] = promptTokens },
        });
    }

    private Task WriteModelsAsync(HttpContext context)
    {
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var data = new JsonArray([.. knownModels.Keys.Order(StringComparer.Ordinal).Select(model => (JsonNode?)OpenAiWire.Model(model, created))]);
        return WriteJsonAsync(context, 200, new JsonObject { ["object"] = "list", ["data"] = data });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string? type, string? param, string? code, string message, TimeSpan? retryAfter)
    {
        if (retryAfter is { } delay)
        {
            context.Response.Headers.RetryAfter = OpenAiWire.RetryAfterSeconds(delay);
            context.Response.Headers["retry-after-ms"] = ((long)delay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return WriteJsonAsync(context, status, OpenAiWire.Error(message, type, param, code));
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json.ToJsonString(), Encoding.UTF8, context.RequestAborted);
    }

    /// <summary>One chat answer, written as one JSON completion or as SSE chunks.</summary>
    private sealed class ChatAnswer(HttpContext context, string id, long created, string model, bool stream, bool includeUsage)
    {
        private static readonly TimeSpan BreakGrace = TimeSpan.FromMilliseconds(200);

        private CancellationToken Aborted => context.RequestAborted;

        public async Task AnswerAsync(string? text, (string Name, string Arguments)? tool, string finishReason, JsonObject usage)
        {
            var toolCallId = $"call_{Guid.NewGuid():N}"[..29];
            if (!stream)
            {
                var message = new JsonObject { ["role"] = "assistant", ["content"] = text, ["refusal"] = null };
                if (tool is { } t)
                {
                    message["tool_calls"] = new JsonArray { OpenAiWire.ToolCall(toolCallId, t.Name, t.Arguments) };
                }

                message["annotations"] = new JsonArray();
                await WriteJsonAsync(context, 200, OpenAiWire.Completion(id, created, model, message, finishReason, usage));
                return;
            }

            StartStream();
            await SendAsync(Delta(new JsonObject { ["role"] = "assistant", ["content"] = tool is null ? "" : null, ["refusal"] = null }));
            if (tool is { } call)
            {
                var first = OpenAiWire.ToolCall(toolCallId, call.Name, "");
                first["index"] = 0;
                await SendAsync(Delta(new JsonObject { ["tool_calls"] = new JsonArray { first } }));
                foreach (var piece in Pieces(call.Arguments))
                {
                    await SendAsync(Delta(new JsonObject
                    {
                        ["tool_calls"] = new JsonArray { new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = piece } } },
                    }));
                }
            }

            foreach (var piece in Pieces(text))
            {
                await SendAsync(Delta(new JsonObject { ["content"] = piece }));
            }

            await SendAsync(OpenAiWire.Chunk(id, created, model, new JsonObject(), finishReason, includeUsage));
            if (includeUsage)
            {
                await SendAsync(OpenAiWire.Chunk(id, created, model, null, null, includeUsage: true, usage));
            }

            await context.Response.WriteAsync("data: [DONE]\n\n", Aborted);
            await context.Response.Body.FlushAsync(Aborted);
        }

        /// <summary>Starts a 200 answer, sends part of it, then drops the connection.</summary>
        public async Task BreakAsync(string text, int afterChunks)
        {
            if (!stream)
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync($"{{\"id\":\"{id}\",\"object\":\"chat.completion\",\"created\":{created},\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assi", Aborted);
                await context.Response.Body.FlushAsync(Aborted);
                await Task.Delay(BreakGrace, Aborted);
                context.Abort();
                return;
            }

            StartStream();
            await SendAsync(Delta(new JsonObject { ["role"] = "assistant", ["content"] = "" }));
            var sent = 0;
            foreach (var piece in Pieces(text + " and then some more words that never arrive"))
            {
                if (sent++ >= afterChunks)
                {
                    break;
                }

                await SendAsync(Delta(new JsonObject { ["content"] = piece }));
            }

            // An abort resets the connection, and a reset discards what the peer has not read yet: give the chunks
            // a moment to be read, as a server that dies mid-answer does not die within microseconds of writing.
            await Task.Delay(BreakGrace, Aborted);
            context.Abort();
        }

        private static IEnumerable<string> Pieces(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                yield break;
            }

            var words = text.Split(' ');
            for (var i = 0; i < words.Length; i++)
            {
                yield return i == 0 ? words[i] : " " + words[i];
            }
        }

        private JsonObject Delta(JsonObject delta) => OpenAiWire.Chunk(id, created, model, delta, null, includeUsage);

        private void StartStream()
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/event-stream; charset=utf-8";
            context.Response.Headers.CacheControl = "no-cache";
        }

        private async Task SendAsync(JsonObject chunk)
        {
            await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", Aborted);
            await context.Response.Body.FlushAsync(Aborted);
        }
    }
}
