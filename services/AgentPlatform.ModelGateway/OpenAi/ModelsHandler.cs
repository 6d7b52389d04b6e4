using System.Text.Json;
using AgentPlatform.ModelGateway.Routing;
using AgentPlatform.ServiceDefaults.Authentication;

namespace AgentPlatform.ModelGateway.OpenAi;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{model}</c>: the route aliases the caller's tenant can call.</summary>
public sealed class ModelsHandler(ModelRouter router)
{
    public const string PlatformOwner = "agentplatform";

    public async Task ListAsync(HttpContext context)
    {
        if (!await OpenAiRequests.AuthorizeAsync(context, dryRun: false))
        {
            return;
        }

        var tenantId = context.User.GetTenantId()!;
        var routes = await router.RoutesAsync(tenantId, context.RequestAborted);
        context.Response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, OpenAiErrors.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var route in routes.Values.OrderBy(r => r.Alias, StringComparer.Ordinal))
            {
                WriteModel(writer, route, tenantId);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public async Task GetAsync(HttpContext context, string model)
    {
        if (!await OpenAiRequests.AuthorizeAsync(context, dryRun: false))
        {
            return;
        }

        var tenantId = context.User.GetTenantId()!;
        var routes = await router.RoutesAsync(tenantId, context.RequestAborted);
        if (!routes.TryGetValue(model, out var route))
        {
            await OpenAiErrors.WriteAsync(context, StatusCodes.Status404NotFound, OpenAiErrors.InvalidRequest, "model_not_found",
                $"The model '{model}' does not exist or you do not have access to it.", "model");
            return;
        }

        context.Response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, OpenAiErrors.WriterOptions))
        {
            WriteModel(writer, route, tenantId);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static void WriteModel(Utf8JsonWriter writer, ModelRouteDefinition route, string tenantId)
    {
        writer.WriteStartObject();
        writer.WriteString("id", route.Alias);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", 0);
        writer.WriteString("owned_by", route.IsTenantRoute ? tenantId : PlatformOwner);
        writer.WriteEndObject();
    }
}
