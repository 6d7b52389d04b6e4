using AgentPlatform.Domain.Models;
using AgentPlatform.Infrastructure.Networking;
using Microsoft.Extensions.Options;

namespace AgentPlatform.ModelGateway.Routing;

/// <summary>Refuses to start with platform routes that could never serve a call, naming what is wrong.</summary>
public sealed class ModelGatewayOptionsValidator : IValidateOptions<ModelGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelGatewayOptions options)
    {
        var errors = new List<string>();
        foreach (var network in OutboundAddresses.InvalidNetworks(options.TenantEndpoints.AllowedPrivateNetworks))
        {
            errors.Add($"{ModelGatewayOptions.SectionName}:TenantEndpoints:AllowedPrivateNetworks has '{network}', which is not a network in CIDR notation (e.g. 10.20.0.0/16).");
        }

        foreach (var (alias, route) in options.Routes)
        {
            var at = $"{ModelGatewayOptions.SectionName}:Routes:{alias}";
            if (!RouteStrategies.All.Contains(route.Strategy))
            {
                errors.Add($"{at}:Strategy must be one of {string.Join(", ", RouteStrategies.All)}, not '{route.Strategy}'.");
            }

            if (route.Deployments.Count == 0)
            {
                errors.Add($"{at} has no deployment.");
            }

            foreach (var duplicate in route.Deployments.GroupBy(d => d.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                errors.Add($"{at}: the deployment name '{duplicate.Key}' is used twice.");
            }

            for (var i = 0; i < route.Deployments.Count; i++)
            {
                var deployment = route.Deployments[i];
                var where = $"{at}:Deployments:{i}";
                if (string.IsNullOrWhiteSpace(deployment.Name) || string.IsNullOrWhiteSpace(deployment.Model))
                {
                    errors.Add($"{where} needs a Name and a Model.");
                }

                if (!ModelProviders.All.Contains(deployment.Provider))
                {
                    errors.Add($"{where}:Provider must be one of {string.Join(", ", ModelProviders.All)}, not '{deployment.Provider}'.");
                }

                if (deployment.Endpoint is { } endpoint && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
                {
                    errors.Add($"{where}:Endpoint must be an absolute http(s) URL, not '{endpoint}'.");
                }

                if (deployment.Provider is ModelProviders.AzureOpenAi && (deployment.Endpoint is null || deployment.ApiKey is null))
                {
                    errors.Add($"{where}: an azure-openai deployment needs an Endpoint and an ApiKey.");
                }

                if (deployment.Timeout <= TimeSpan.Zero || deployment.Timeout > ModelDeploymentLimits.MaxTimeout
                    || deployment.Cooldown < TimeSpan.Zero || deployment.Cooldown > ModelDeploymentLimits.MaxCooldown
                    || deployment.MaxRetries is < 0 or > ModelDeploymentLimits.MaxRetries
                    || deployment.Priority is < 0 or > ModelDeploymentLimits.MaxPriority
                    || deployment.Weight is < 1 or > ModelDeploymentLimits.MaxWeight
                    || deployment.ContextWindow is < 1 or > ModelDeploymentLimits.MaxContextWindow
                    || deployment.InputPriceMicros < 0 || deployment.OutputPriceMicros < 0 || deployment.CachedInputPriceMicros < 0)
                {
                    errors.Add($"{where}: Timeout must be positive and at most {ModelDeploymentLimits.MaxTimeout}, Cooldown between 0 and "
                        + $"{ModelDeploymentLimits.MaxCooldown}, MaxRetries 0-{ModelDeploymentLimits.MaxRetries}, Priority 0-{ModelDeploymentLimits.MaxPriority}, "
                        + $"Weight 1-{ModelDeploymentLimits.MaxWeight}, ContextWindow at least 1, prices not negative.");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
