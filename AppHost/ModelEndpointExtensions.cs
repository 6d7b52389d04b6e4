using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace AgentPlatform.AppHost;

internal static class ModelEndpointExtensions
{
    /// <summary>
    /// Hands a configured OpenAI-compatible endpoint (<c>ConnectionStrings:models</c>, e.g.
    /// <c>Endpoint=https://api.openai.com/v1;Key=sk-…</c>) to the model gateway. Without one the model
    /// gateway serves its offline provider, so nothing here is required.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithModelEndpoint(this IResourceBuilder<ProjectResource> modelGateway, IDistributedApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ResourceNames.Models)))
        {
            return modelGateway;
        }

        return modelGateway.WithReference(builder.AddConnectionString(ResourceNames.Models));
    }
}
