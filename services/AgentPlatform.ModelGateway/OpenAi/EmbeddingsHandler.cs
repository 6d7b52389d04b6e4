using AgentPlatform.Infrastructure.Tokens;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ModelGateway.Providers;
using AgentPlatform.ModelGateway.Routing;
using Microsoft.Extensions.AI;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary><c>POST /v1/embeddings</c>: strings in, vectors out (as floats or base64), routed and governed like chat.</summary>
public sealed class EmbeddingsHandler(ModelRouter router, ModelClientFactory clients, IModelGovernance governance, ITokenEstimator tokenEstimator)
{
    public const string Operation = "embeddings";

    /// <summary>OpenAI's own limit on inputs per request.</summary>
    public const int MaxInputs = 2048;

    public async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var (body, _) = await OpenAiRequests.ReadAsync(context, OpenAiJsonContext.Default.EmbeddingRequest);
        if (body is null)
        {
            return;
        }

        var (inputs, invalid, param) = Validate(body);
        if (inputs is null)
        {
            await OpenAiErrors.InvalidRequestAsync(context, invalid!, param);
            return;
        }

        var forceFallback = body.AgentPlatform?.ForceFallback == true;
        if (body.AgentPlatform?.MockResponse is not null)
        {
            await OpenAiErrors.InvalidRequestAsync(context, "'agentplatform.mock_response' applies to chat completions only.", "agentplatform");
            return;
        }

        if (!await OpenAiRequests.AuthorizeAsync(context, forceFallback))
        {
            return;
        }

        var caller = ModelCallers.From(context);
        using var activity = ModelGatewayTelemetry.StartCall(Operation, caller, body.Model!);
        var (plan, routingError) = await router.PlanAsync(caller.TenantId, body.Model!, forceFallback, cancellationToken);
        if (plan is null)
        {
            await OpenAiRequests.WriteRoutingErrorAsync(context, routingError!);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var inputTokens = inputs.Select(tokenEstimator.CountTokens).ToList();
        var estimatedInput = inputTokens.Sum();
        var admitted = await OpenAiRequests.AdmitAsync(
            context, governance, new ModelCallRequest(caller, Operation, body.Model!, plan.WorstCasePrice, estimatedInput, 0, Streamed: false, DryRun: forceFallback));
        if (admitted is null)
        {
            return;
        }

        await using var lease = admitted;
        var generationOptions = body.Dimensions is { } dimensions ? new EmbeddingGenerationOptions { Dimensions = dimensions } : null;
        // Each input is embedded on its own: the longest one must fit a deployment's context window.
        using var routed = await router.ExecuteAsync(
            plan,
            inputTokens.Max(),
            (deployment, token) => clients.EmbeddingGenerator(deployment).GenerateAsync(inputs, generationOptions, token),
            keepCancellation: false,
            cancellationToken);
        if (routed.Error is { } error)
        {
            await lease.CompleteAsync(
                new ModelCallResult(ChatCompletionsHandler.OutcomeOf(error), error.StatusCode, null, null, ModelPrice.Free, 0, 0, 0, routed.Attempts, Stopwatch.GetElapsedTime(started), false),
                CancellationToken.None);
            await OpenAiRequests.WriteRoutingErrorAsync(context, error);
            return;
        }

        var embeddings = routed.Value!;
        var deployment = routed.ServedBy!.Deployment;
        var model = embeddings.FirstOrDefault()?.ModelId ?? deployment.Model;
        var usedTokens = embeddings.Usage?.InputTokenCount ?? estimatedInput;
        OpenAiRequests.WriteServedHeaders(context, routed.ServedBy, model, routed.Attempts.Count);

        await lease.CompleteAsync(
            new ModelCallResult(ModelOutcomes.Ok, 200, model, deployment.Name, deployment.Price, usedTokens, 0, 0, routed.Attempts, Stopwatch.GetElapsedTime(started), deployment.IsOffline),
            CancellationToken.None);

        context.Response.ContentType = "application/json";
        var base64 = body.EncodingFormat == "base64";
        using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, OpenAiErrors.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < embeddings.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                var vector = embeddings[i].Vector.Span;
                if (base64)
                {
                    // OpenAI's base64 is the little-endian float32 bytes.
                    writer.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector));
                }
                else
                {
                    writer.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        writer.WriteNumberValue(value);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("model", model);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", usedTokens);
            writer.WriteNumber("total_tokens", usedTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(cancellationToken);
    }

    private static (List<string>? Inputs, string? Error, string? Param) Validate(EmbeddingRequest body)
    {
        if (string.IsNullOrWhiteSpace(body.Model))
        {
            return (null, "you must provide a model parameter", "model");
        }

        if (body.EncodingFormat is not (null or "float" or "base64"))
        {
            return (null, "'encoding_format' must be 'float' or 'base64'.", "encoding_format");
        }

        if (body.Dimensions is < 1)
        {
            return (null, "'dimensions' must be at least 1.", "dimensions");
        }

        var inputs = new List<string>();
        switch (body.Input)
        {
            case { ValueKind: JsonValueKind.String } single:
                inputs.Add(single.GetString()!);
                break;
            case { ValueKind: JsonValueKind.Array } array when array.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String):
                inputs.AddRange(array.EnumerateArray().Select(item => item.GetString()!));
                break;
            case { ValueKind: JsonValueKind.Array }:
                return (null, "'input' must be a string or an array of strings; token arrays are not supported.", "input");
            default:
                return (null, "'input' must be a string or an array of strings.", "input");
        }

        if (inputs.Count is 0 or > MaxInputs)
        {
            return (null, $"'input' must have between 1 and {MaxInputs} items.", "input");
        }

        return inputs.Any(string.IsNullOrEmpty) ? (null, "'input' must not contain empty strings.", "input") : (inputs, null, null);
    }
}
