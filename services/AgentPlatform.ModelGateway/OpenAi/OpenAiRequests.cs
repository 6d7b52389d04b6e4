using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AgentPlatform.Domain.Identity;
using AgentPlatform.ModelGateway.Governance;
using AgentPlatform.ModelGateway.Routing;
using AgentPlatform.ServiceDefaults.Authentication;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary>What every <c>/v1</c> endpoint does the same way: read the body, check permissions, answer errors.</summary>
public static class OpenAiRequests
{
    /// <summary>
    /// The body, parsed and as sent (for a relay to the upstream), or null after answering 400 for JSON that is not a
    /// request of this type.
    /// </summary>
    public static async Task<(T? Value, ReadOnlyMemory<byte> Json)> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type) where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, OpenAiErrors.InvalidRequest, "unsupported_media_type",
                "The request body must be JSON (Content-Type: application/json).");
            return (null, default);
        }

        try
        {
            var json = await ReadBytesAsync(context);
            var body = JsonSerializer.Deserialize(json.Span, type);
            if (body is null)
            {
                await OpenAiErrors.InvalidRequestAsync(context, "The request body must be a JSON object.");
            }

            return (body, json);
        }
        catch (JsonException exception)
        {
            await OpenAiErrors.InvalidRequestAsync(context,
                $"We could not parse the JSON body of your request: {exception.Message}", param: exception.Path?.TrimStart('$', '.'));
            return (null, default);
        }
    }

    // The whole body, in one array: Kestrel's request size limit bounds it.
    private static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            if (read.IsCompleted)
            {
                var bytes = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return bytes;
            }

            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>Needs <c>models:use</c>, and <c>models:dry-run</c> for the dry-run hooks; answers 403 otherwise.</summary>
    public static async Task<bool> AuthorizeAsync(HttpContext context, bool dryRun)
    {
        if (!context.User.HasPermission(Permissions.ModelsUse))
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status403Forbidden, OpenAiErrors.PermissionError, "permission_denied",
                $"Calling models needs the permission '{Permissions.ModelsUse}'.");
            return false;
        }

        if (dryRun && !context.User.HasPermission(Permissions.ModelsDryRun))
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status403Forbidden, OpenAiErrors.PermissionError, "permission_denied",
                $"The 'agentplatform' dry-run options need the permission '{Permissions.ModelsDryRun}'.", "agentplatform");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Asks governance to admit the call: the lease, with its rate-limit headers and the model asked for already on
    /// the response, or null after answering the refusal.
    /// </summary>
    public static async Task<IModelCallLease?> AdmitAsync(HttpContext context, IModelGovernance governance, ModelCallRequest request)
    {
        var admission = await governance.AdmitAsync(request, context.RequestAborted);
        if (admission.Refusal is { } refusal)
        {
            await WriteRefusalAsync(context, refusal);
            return null;
        }

        CopyHeaders(context, admission.Lease!.ResponseHeaders);
        context.Response.Headers[ModelGatewayHeaders.ModelRequested] = request.ModelRequested;
        return admission.Lease;
    }

    /// <summary>Which route, deployment and model served the call, in how many attempts; and whether it was offline.</summary>
    public static void WriteServedHeaders(HttpContext context, RouteCandidate servedBy, string model, int attempts)
    {
        var headers = context.Response.Headers;
        headers[ModelGatewayHeaders.ModelServed] = model;
        headers[ModelGatewayHeaders.Deployment] = servedBy.Deployment.Name;
        headers[ModelGatewayHeaders.Route] = servedBy.RouteAlias;
        headers[ModelGatewayHeaders.Attempts] = attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (servedBy.Deployment.IsOffline)
        {
            headers[ModelGatewayHeaders.Offline] = "true";
        }

        Activity.Current?.SetTag("gen_ai.response.model", model).SetTag("agentplatform.deployment", servedBy.Deployment.Name).SetTag("agentplatform.attempts", attempts);
    }

    public static Task WriteRoutingErrorAsync(HttpContext context, RoutingError error) =>
        OpenAiErrors.WriteAsync(context, error.StatusCode, error.Type, error.Code, error.Message,
            error.Code == "model_not_found" ? "model" : null, error.RetryAfter);

    public static Task WriteRefusalAsync(HttpContext context, ModelCallRefusal refusal) =>
        OpenAiErrors.WriteAsync(context, refusal.StatusCode, refusal.Type, refusal.Code, refusal.Message, null, refusal.RetryAfter, refusal.Headers);

    public static void CopyHeaders(HttpContext context, IReadOnlyDictionary<string, string> headers)
    {
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }
    }
}

/// <summary>The gateway's own response headers on model calls.</summary>
public static class ModelGatewayHeaders
{
    public const string ModelRequested = "x-agentplatform-model-requested";
    public const string ModelServed = "x-agentplatform-model-served";
    public const string Deployment = "x-agentplatform-deployment";
    public const string Route = "x-agentplatform-route";
    public const string Attempts = "x-agentplatform-attempts";

    /// <summary>Present (<c>true</c>) when the built-in offline provider answered.</summary>
    public const string Offline = "x-agentplatform-offline";

    /// <summary>The model name of answers given by the <c>mock_response</c> dry-run hook.</summary>
    public const string MockModel = "agentplatform-mock";
}
