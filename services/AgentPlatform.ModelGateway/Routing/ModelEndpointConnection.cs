using AgentPlatform.Domain.Models;
using System.Data.Common;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>
/// The quick way to a real model: the connection string <c>ConnectionStrings:models</c>
/// (<c>Endpoint=…;Key=…[;Model=…][;Provider=openai|azure-openai|ollama]</c>) makes that endpoint serve the
/// platform route <c>default</c>, with the offline model as its fallback. Routes in configuration or the
/// admin API do the same with more control.
/// </summary>
public sealed class ModelEndpointConnection(IConfiguration configuration) : IPostConfigureOptions<ModelGatewayOptions>
{
    public const string DefaultRoute = "default";
    public const string OfflineRoute = "offline";
    public const string DefaultModel = "gpt-4o-mini";

    public void PostConfigure(string? name, ModelGatewayOptions options)
    {
        var connectionString = configuration.GetConnectionString(ResourceNames.Models);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        var parts = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string? Part(string key) => parts.TryGetValue(key, out var value) ? value?.ToString() : null;
        var endpoint = Part("Endpoint");
        if (endpoint is null || !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw new OptionsValidationException(ModelGatewayOptions.SectionName, typeof(ModelGatewayOptions),
                ["ConnectionStrings:models must have an absolute Endpoint=… (e.g. Endpoint=https://api.openai.com/v1;Key=sk-…)."]);
        }

        options.Routes[DefaultRoute] = new RouteOptions
        {
            Description = $"The model at {endpoint} (ConnectionStrings:models), falling back to the offline model.",
            Strategy = RouteStrategies.Priority,
            Fallbacks = [OfflineRoute],
            Deployments =
            [
                new DeploymentOptions
                {
                    Name = ResourceNames.Models,
                    Provider = Part("Provider") ?? ModelProviders.OpenAi,
                    Endpoint = endpoint,
                    Model = Part("Model") ?? DefaultModel,
                    ApiKey = Part("Key"),
                },
            ],
        };
    }
}
