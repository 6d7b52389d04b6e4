using AgentPlatform.Infrastructure.Tokens;
using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AgentPlatform.Infrastructure.Models;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ModelGateway.Providers;
using AgentPlatform.ModelGateway.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>
/// <c>POST /v1/chat/completions</c>: validates, routes, admits under governance, calls the deployments, and
/// answers in OpenAI's format, plain or as server-sent events.
/// </summary>
public sealed class ChatCompletionsHandler(
    ModelRouter router,
    ModelClientFactory clients,
    IModelGovernance governance,
    ITokenEstimator tokenEstimator,
    IOptionsMonitor<ModelGatewayOptions> options,
    TimeProvider timeProvider)
{
    public const string Operation = "chat";

    // How much estimated output a stream produces between two budget checks.
    private const int BudgetCheckInterval = 16;

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public async Task HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var (body, json) = await OpenAiRequests.ReadAsync(context, OpenAiJsonContext.Default.ChatCompletionRequest);
        if (body is null)
        {
            return;
        }

        var (mapped, invalid, param) = ChatRequestMapper.Map(body);
        if (mapped is null)
        {
            await OpenAiErrors.InvalidRequestAsync(context, invalid!, param);
            return;
        }

        var hooks = body.AgentPlatform;
        var dryRun = hooks is not null && (hooks.MockResponse is not null || hooks.ForceFallback == true);
        if (!await OpenAiRequests.AuthorizeAsync(context, dryRun))
        {
            return;
        }

        var caller = ModelCallers.From(context);
        using var activity = ModelGatewayTelemetry.StartCall(Operation, caller, body.Model!);
        var (plan, routingError) = await router.PlanAsync(caller.TenantId, body.Model!, hooks?.ForceFallback == true, cancellationToken);
        if (plan is null)
        {
            await OpenAiRequests.WriteRoutingErrorAsync(context, routingError!);
            return;
        }

        var streamed = body.Stream == true;
        var estimatedInput = tokenEstimator.CountChatTokens(mapped.TextForEstimate, mapped.ExtraTextForEstimate);
        var maxOutput = mapped.Options.MaxOutputTokens ?? options.CurrentValue.DefaultMaxOutputTokens;
        var admitted = await OpenAiRequests.AdmitAsync(
            context, governance, new ModelCallRequest(caller, Operation, body.Model!, plan.WorstCasePrice, estimatedInput, maxOutput, streamed, dryRun));
        if (admitted is null)
        {
            return;
        }

        await using var lease = admitted;

        var call = new ChatCall(context, body, json, mapped, plan, lease, estimatedInput, Stopwatch.GetTimestamp());
        if (hooks?.MockResponse is { } mock)
        {
            await MockAsync(call, mock);
        }
        else if (streamed)
        {
            await StreamAsync(call);
        }
        else
        {
            await CompleteAsync(call);
        }
    }

    private async Task CompleteAsync(ChatCall call)
    {
        var context = call.Context;
        using var routed = await router.ExecuteAsync(
            call.Plan,
            call.EstimatedInput,
            async (deployment, token) =>
            {
                if (ModelClientFactory.Relays(deployment))
                {
                    var relayed = await clients.Relay.CompleteAsync(deployment, call.Json, token);
                    return relayed.ContentFiltered ? throw new UpstreamFailureException(UpstreamFailure.ContentFilterFinish()) : new Answer(null, relayed);
                }

                var response = await clients.ChatClient(deployment).GetResponseAsync(call.Mapped.Messages, call.Mapped.Options, token);
                return response.FinishReason == ChatFinishReason.ContentFilter ? throw new UpstreamFailureException(UpstreamFailure.ContentFilterFinish()) : new Answer(response, null);
            },
            keepCancellation: false,
            context.RequestAborted);
        if (routed.Error is { } error)
        {
            await call.Lease.CompleteAsync(Failed(call, routed.Attempts, error), CancellationToken.None);
            await OpenAiRequests.WriteRoutingErrorAsync(context, error);
            return;
        }

        var deployment = routed.ServedBy!.Deployment;
        TokenUsage usage;
        string model;
        if (routed.Value!.Relayed is { } relayed)
        {
            // The upstream's answer goes back as it came; its usage is what governance settles.
            usage = new TokenUsage(
                relayed.InputTokens ?? call.EstimatedInput,
                relayed.OutputTokens ?? tokenEstimator.CountTokens(relayed.Text),
                relayed.CachedInputTokens ?? 0);
            model = relayed.Model ?? deployment.Model;
            WriteAnswerHeaders(context, routed, model, deployment, usage);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = relayed.Json.Length;
            context.Response.BodyWriter.Write(relayed.Json.Span);
        }
        else
        {
            var response = routed.Value.Response!;
            usage = UsageOf(response.Usage, call.EstimatedInput, () => tokenEstimator.CountTokens(response.Text));
            var identity = Identity(response.ResponseId, response.ModelId ?? deployment.Model, deployment, response.CreatedAt);
            model = identity.Model;
            WriteAnswerHeaders(context, routed, model, deployment, usage);
            context.Response.ContentType = "application/json";
            using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, OpenAiErrors.WriterOptions))
            {
                ChatCompletionWriter.WriteCompletion(writer, identity, response, usage);
            }
        }

        // The caller has its answer before the books are settled; the lease settles even if the caller is gone.
        await CompleteResponseAsync(context);
        await call.Lease.CompleteAsync(Served(call, ModelOutcomes.Ok, 200, model, deployment, usage, routed.Attempts), CancellationToken.None);
    }

    private static void WriteAnswerHeaders(HttpContext context, RoutedCall<Answer> routed, string model, ModelDeploymentDefinition deployment, TokenUsage usage)
    {
        OpenAiRequests.WriteServedHeaders(context, routed.ServedBy!, model, routed.Attempts.Count);
        context.Response.Headers[ModelCallHeaders.CostMicros] =
            deployment.Price.CostMicros(usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens).ToString(CultureInfo.InvariantCulture);
    }

    private static async Task CompleteResponseAsync(HttpContext context)
    {
        try
        {
            await context.Response.CompleteAsync();
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The caller went away after the answer was produced; it is still accounted for.
        }
    }

    private async Task StreamAsync(ChatCall call)
    {
        var context = call.Context;
        using var routed = await router.ExecuteAsync(
            call.Plan,
            call.EstimatedInput,
            async (deployment, token) =>
            {
                var updates = clients.ChatClient(deployment).GetStreamingResponseAsync(call.Mapped.Messages, call.Mapped.Options, token).GetAsyncEnumerator(token);
                try
                {
                    // Failing before the first update still falls back; after it, the caller has the stream.
                    var any = await updates.MoveNextAsync();
                    if (any && updates.Current.FinishReason == ChatFinishReason.ContentFilter)
                    {
                        throw new UpstreamFailureException(UpstreamFailure.ContentFilterFinish());
                    }

                    return new StreamStart(updates, any ? updates.Current : null);
                }
                catch
                {
                    await updates.DisposeAsync();
                    throw;
                }
            },
            keepCancellation: true,
            context.RequestAborted);
        if (routed.Error is { } error)
        {
            await call.Lease.CompleteAsync(Failed(call, routed.Attempts, error), CancellationToken.None);
            await OpenAiRequests.WriteRoutingErrorAsync(context, error);
            return;
        }

        var start = routed.Value!;
        await using var updates = start.Updates;
        var deployment = routed.ServedBy!.Deployment;
        var identity = Identity(start.First?.ResponseId, start.First?.ModelId ?? deployment.Model, deployment, start.First?.CreatedAt);
        OpenAiRequests.WriteServedHeaders(context, routed.ServedBy, identity.Model, routed.Attempts.Count);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";

        var outcome = ModelOutcomes.Ok;
        ModelCallResult? result = null;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(buffer, OpenAiErrors.WriterOptions);
        UsageDetails? reported = null;
        long outputTokens = 0;
        long nextBudgetCheck = BudgetCheckInterval;
        var toolCalls = 0;
        var first = true;
        var finished = false;
        var update = start.First;
        try
        {
            while (update is not null)
            {
                foreach (var usageContent in update.Contents.OfType<UsageContent>())
                {
                    reported = usageContent.Details;
                }

                var hasContent = update.Text.Length > 0 || update.Contents.OfType<FunctionCallContent>().Any() || update.FinishReason is not null;
                if (hasContent || first)
                {
                    ChatCompletionWriter.WriteChunk(json, identity, update, first, ref toolCalls);
                    await SendAsync(context, buffer, json);
                    first = false;
                    finished |= update.FinishReason is not null;
                }

                outputTokens += tokenEstimator.CountTokens(update.Text);
                if (outputTokens >= nextBudgetCheck)
                {
                    nextBudgetCheck = outputTokens + BudgetCheckInterval;
                    if (!await call.Lease.TryContinueAsync(outputTokens, deployment.Price, context.RequestAborted))
                    {
                        outcome = ModelOutcomes.StoppedOutOfBudget;
                        ChatCompletionWriter.WriteFinishChunk(json, identity, ChatFinishReason.Length);
                        await SendAsync(context, buffer, json);
                        finished = true;
                        break;
                    }
                }

                // The silence between two updates is bounded by the deployment's timeout too.
                routed.Cancellation!.CancelAfter(deployment.Timeout);
                update = await updates.MoveNextAsync() ? updates.Current : null;
            }

            if (!finished)
            {
                ChatCompletionWriter.WriteFinishChunk(json, identity, ChatFinishReason.Stop);
                await SendAsync(context, buffer, json);
            }

            var usage = UsageOf(outcome == ModelOutcomes.Ok ? reported : null, call.EstimatedInput, () => outputTokens);
            if (call.Body.StreamOptions?.IncludeUsage == true)
            {
                ChatCompletionWriter.WriteUsageChunk(json, identity, usage);
                await SendAsync(context, buffer, json);
            }

            await context.Response.Body.WriteAsync(Done, context.RequestAborted);
            await CompleteResponseAsync(context);
            result = Served(call, outcome, 200, identity.Model, deployment, usage, routed.Attempts);
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The stream broke after the caller got part of it: no fallback can take back what was sent. The
            // caller gets an error event (OpenAI's SDKs raise it) and the partial output is charged.
            var failure = exception is OperationCanceledException ? UpstreamFailure.Timeout(deployment.Timeout) : UpstreamFailure.From(exception);
            var attempts = routed.Attempts.Append(new ModelAttempt(routed.ServedBy.RouteAlias, deployment.Name, deployment.Model, failure.Outcome, failure.StatusCode, TimeSpan.Zero, "after the stream started: " + failure.Message)).ToList();
            json.Reset();
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", $"The deployment's stream broke: {failure.Message}");
            json.WriteString("type", "server_error");
            json.WriteNull("param");
            json.WriteString("code", "stream_interrupted");
            json.WriteEndObject();
            json.WriteEndObject();
            result = Served(call, failure.Outcome, 502, identity.Model, deployment, new TokenUsage(call.EstimatedInput, outputTokens, 0), attempts);
            await SendAsync(context, buffer, json);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away: what was produced so far is charged.
            result = Served(call, ModelOutcomes.Cancelled, 499, identity.Model, deployment, new TokenUsage(call.EstimatedInput, outputTokens, 0), routed.Attempts);
        }
        finally
        {
            if (result is not null)
            {
                await call.Lease.CompleteAsync(result, CancellationToken.None);
            }
        }
    }

    private async Task MockAsync(ChatCall call, string mock)
    {
        var context = call.Context;
        var identity = new CompletionIdentity("chatcmpl-mock-" + Guid.NewGuid().ToString("N"), timeProvider.GetUtcNow().ToUnixTimeSeconds(), ModelGatewayHeaders.MockModel, null);
        var usage = new TokenUsage(call.EstimatedInput, tokenEstimator.CountTokens(mock), 0);
        context.Response.Headers[ModelGatewayHeaders.ModelServed] = ModelGatewayHeaders.MockModel;
        context.Response.Headers[ModelGatewayHeaders.Attempts] = "0";
        await call.Lease.CompleteAsync(
            new ModelCallResult(ModelOutcomes.Mocked, 200, ModelGatewayHeaders.MockModel, null, ModelPrice.Free, usage.InputTokens, usage.OutputTokens, 0, [], Elapsed(call), Offline: false),
            CancellationToken.None);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, mock)) { FinishReason = ChatFinishReason.Stop };
        if (call.Body.Stream != true)
        {
            context.Response.ContentType = "application/json";
            using var writer = new Utf8JsonWriter(context.Response.BodyWriter, OpenAiErrors.WriterOptions);
            ChatCompletionWriter.WriteCompletion(writer, identity, response, usage);
            writer.Flush();
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(buffer, OpenAiErrors.WriterOptions);
        var toolCalls = 0;
        var first = true;
        foreach (var update in response.ToChatResponseUpdates())
        {
            ChatCompletionWriter.WriteChunk(json, identity, update, first, ref toolCalls);
            await SendAsync(context, buffer, json);
            first = false;
        }

        if (call.Body.StreamOptions?.IncludeUsage == true)
        {
            ChatCompletionWriter.WriteUsageChunk(json, identity, usage);
            await SendAsync(context, buffer, json);
        }

        await context.Response.Body.WriteAsync(Done, context.RequestAborted);
    }

    private static async Task SendAsync(HttpContext context, ArrayBufferWriter<byte> buffer, Utf8JsonWriter json)
    {
        json.Flush();
        var body = context.Response.BodyWriter;
        body.Write(DataPrefix);
        body.Write(buffer.WrittenSpan);
        body.Write(EventEnd);
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        await body.FlushAsync(context.RequestAborted);
    }

    private CompletionIdentity Identity(string? responseId, string model, ModelDeploymentDefinition deployment, DateTimeOffset? created) => new(
        responseId is { Length: > 0 } id && id.StartsWith("chatcmpl", StringComparison.Ordinal) ? id : "chatcmpl-" + Guid.NewGuid().ToString("N"),
        (created ?? timeProvider.GetUtcNow()).ToUnixTimeSeconds(),
        model,
        deployment.IsOffline ? ChatCompletionWriter.OfflineFingerprint : null);

    private static TokenUsage UsageOf(UsageDetails? reported, int estimatedInput, Func<long> estimateOutput) => new(
        reported?.InputTokenCount ?? estimatedInput,
        reported?.OutputTokenCount ?? estimateOutput(),
        reported?.CachedInputTokenCount ?? 0);

    private static ModelCallResult Served(ChatCall call, string outcome, int status, string model, ModelDeploymentDefinition deployment, TokenUsage usage, IReadOnlyList<ModelAttempt> attempts) =>
        new(outcome, status, model, deployment.Name, deployment.Price, usage.InputTokens, usage.OutputTokens, usage.CachedInputTokens, attempts, Elapsed(call), deployment.IsOffline);

    private static ModelCallResult Failed(ChatCall call, IReadOnlyList<ModelAttempt> attempts, RoutingError error) =>
        new(OutcomeOf(error), error.StatusCode, null, null, ModelPrice.Free, 0, 0, 0, attempts, Elapsed(call), Offline: false);

    internal static string OutcomeOf(RoutingError error) => error.Code switch
    {
        "rate_limit_exceeded" => ModelOutcomes.RateLimited,
        "context_length_exceeded" => ModelOutcomes.ContextLengthExceeded,
        "content_filter" => ModelOutcomes.ContentFiltered,
        "upstream_timeout" => ModelOutcomes.Timeout,
        _ => ModelOutcomes.Error,
    };

    private static TimeSpan Elapsed(ChatCall call) => Stopwatch.GetElapsedTime(call.Started);

    /// <summary>A non-streaming answer: translated by a chat client, or relayed as the upstream wrote it.</summary>
    private sealed record Answer(ChatResponse? Response, RelayedCompletion? Relayed);

    private sealed record StreamStart(IAsyncEnumerator<ChatResponseUpdate> Updates, ChatResponseUpdate? First);

    private sealed record ChatCall(
        HttpContext Context,
        ChatCompletionRequest Body,
        ReadOnlyMemory<byte> Json,
        MappedChatRequest Mapped,
        RoutePlan Plan,
        IModelCallLease Lease,
        int EstimatedInput,
        long Started);
}
