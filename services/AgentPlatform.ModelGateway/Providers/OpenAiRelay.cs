using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentPlatform.ModelGateway.Routing;

namespace AgentPlatform.ModelGateway.Providers;

/// <summary>
/// A chat completion answered by an OpenAI-compatible deployment, as it came: the upstream's JSON, relayed to the
/// caller byte for byte, and what governance needs from it.
/// </summary>
public sealed record RelayedCompletion(
    ReadOnlyMemory<byte> Json,
    string? Id,
    string? Model,
    long? InputTokens,
    long? OutputTokens,
    long? CachedInputTokens,
    bool ContentFiltered)
{
    private string? text;

    /// <summary>
    /// The answer's text, every choice's content in order: read only when asked, to estimate the output of an
    /// upstream that reports no usage.
    /// </summary>
    public string Text => text ??= OpenAiRelay.TextOf(Json);
}

/// <summary>
/// Non-streaming chat completions for deployments that speak OpenAI's format themselves (provider <c>openai</c>:
/// OpenAI, vLLM, LiteLLM, LM Studio …). The caller's request is already in that format, so it is sent on with only
/// <c>model</c> replaced and the platform's own options removed, and the answer comes back unchanged; its usage,
/// finish reasons and text are read with a forward-only reader. Translating both ways through
/// Microsoft.Extensions.AI and the OpenAI SDK cost the gateway about a fifth of its CPU and a third of its
/// allocations per call, and dropped the fields neither models (ADR 10). Streams and the other providers
/// go through <see cref="Microsoft.Extensions.AI.IChatClient"/>.
/// </summary>
public sealed class OpenAiRelay(Func<ModelDeploymentDefinition, HttpClient> httpOf)
{
    /// <summary>The request property of the platform's dry-run hooks, never sent upstream.</summary>
    public const string PlatformProperty = "agentplatform";

    public async Task<RelayedCompletion> CompleteAsync(ModelDeploymentDefinition deployment, ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, ChatCompletionsUri(deployment))
        {
            Content = new ReadOnlyMemoryContent(Rewrite(request, deployment.Model)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (deployment.ApiKey is { } key)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await httpOf(deployment).SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new UpstreamFailureException(UpstreamFailure.FromResponse(
                (int)response.StatusCode, body, name => Header(response, name), $"The deployment answered {(int)response.StatusCode} {response.ReasonPhrase}."));
        }

        return Read(body) ?? throw new UpstreamFailureException(new UpstreamFailure(
            Governance.ModelOutcomes.Error, (int)response.StatusCode, "The deployment answered with a body that is not a chat completion."));
    }

    /// <summary>Where a deployment's chat completions are: its endpoint (OpenAI's by default) + <c>chat/completions</c>.</summary>
    public static Uri ChatCompletionsUri(ModelDeploymentDefinition deployment)
    {
        var endpoint = (deployment.Endpoint ?? ModelClientFactory.OpenAiEndpoint).AbsoluteUri;
        return new Uri(endpoint.EndsWith('/') ? endpoint + "chat/completions" : endpoint + "/chat/completions");
    }

    /// <summary>The caller's request with the deployment's model, without the platform's options and as a single answer.</summary>
    public static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> request, string model)
    {
        using var document = JsonDocument.Parse(request);
        var buffer = new ArrayBufferWriter<byte>(request.Length + model.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!property.NameEquals("model") && !property.NameEquals(PlatformProperty)
                    && !property.NameEquals("stream") && !property.NameEquals("stream_options"))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>What governance needs from a chat completion, or null when the JSON is not one.</summary>
    public static RelayedCompletion? Read(byte[] json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? id = null, model = null;
            long? input = null, output = null, cached = null;
            var filtered = false;
            var choices = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return null;
                    }

                    choices = true;
                    ReadFinishReasons(ref reader, ref filtered);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadUsage(ref reader, ref input, ref output, ref cached);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return choices ? new RelayedCompletion(json, id, model, input, output, cached, filtered) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void ReadFinishReasons(ref Utf8JsonReader reader, ref bool filtered)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var finishReason = reader.ValueTextEquals("finish_reason"u8);
                reader.Read();
                if (finishReason)
                {
                    filtered |= reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("content_filter"u8);
                }
                else
                {
                    reader.Skip();
                }
            }
        }
    }

    /// <summary>Every choice's message content of a completion <see cref="Read"/> accepted, in order.</summary>
    internal static string TextOf(ReadOnlyMemory<byte> json)
    {
        using var document = JsonDocument.Parse(json);
        var text = new System.Text.StringBuilder();
        foreach (var choice in document.RootElement.GetProperty("choices").EnumerateArray())
        {
            if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content)
                && content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }
        }

        return text.ToString();
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref long? input, ref long? output, ref long? cached)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                reader.Read();
                input = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                reader.Read();
                output = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isCached = reader.ValueTextEquals("cached_tokens"u8);
                    reader.Read();
                    if (isCached && reader.TokenType == JsonTokenType.Number)
                    {
                        cached = reader.GetInt64();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;
}
