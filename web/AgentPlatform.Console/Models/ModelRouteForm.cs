using AgentPlatform.Domain.Models;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentPlatform.Console.Models;

/// <summary>
/// The route editor's fields and the control plane's rules for them, checked before saving so most mistakes show at
/// once; the API checks again (and alone knows provider credentials and fallback cycles). Errors are keyed like the
/// API's validation errors (<c>alias</c>, <c>deployments[0].timeout</c>), so both show in the same place.
/// </summary>
public sealed partial class ModelRouteForm
{
    public const int MaxDeployments = 20;
    public const int MaxFallbacks = 10;

    public string Alias { get; set; } = "";

    public string Strategy { get; set; } = RouteStrategies.Priority;

    /// <summary>Fallback aliases, comma-separated, tried in order.</summary>
    public string Fallbacks { get; set; } = "";

    public string? Description { get; set; }

    public List<DeploymentForm> Deployments { get; } = [];

    public static ModelRouteForm New() => new() { Deployments = { new DeploymentForm() } };

    public static ModelRouteForm From(ModelRoute route)
    {
        var form = new ModelRouteForm
        {
            Alias = route.Alias,
            Strategy = route.Strategy,
            Fallbacks = string.Join(", ", route.Fallbacks),
            Description = route.Description,
        };
        form.Deployments.AddRange(route.Deployments.Select(DeploymentForm.From));
        return form;
    }

    public IReadOnlyList<string> FallbackAliases =>
        [.. Fallbacks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    public void AddDeployment() => Deployments.Add(new DeploymentForm { Name = NextDeploymentName() });

    public void RemoveDeployment(DeploymentForm deployment) => Deployments.Remove(deployment);

    /// <summary>What is wrong, by field; empty when the route can be saved.</summary>
    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var messages))
            {
                errors[field] = messages = [];
            }

            messages.Add(message);
        }

        var alias = Alias.Trim();
        if (alias.Length == 0)
        {
            Add("alias", "Enter the alias callers name as their model.");
        }
        else if (alias.Length > 100 || !AliasRegex().IsMatch(alias))
        {
            Add("alias", "Use up to 100 letters, digits and . _ : / @ -, starting with a letter or digit.");
        }

        if (!RouteStrategies.All.Contains(Strategy))
        {
            Add("strategy", $"The strategy is one of {string.Join(", ", RouteStrategies.All)}.");
        }

        var fallbacks = FallbackAliases;
        if (fallbacks.Count > MaxFallbacks)
        {
            Add("fallbacks", $"A route has at most {MaxFallbacks} fallbacks.");
        }

        if (fallbacks.Any(f => !AliasRegex().IsMatch(f)))
        {
            Add("fallbacks", "Every fallback is a model alias.");
        }

        if (alias.Length > 0 && fallbacks.Contains(alias, StringComparer.Ordinal))
        {
            Add("fallbacks", "A route cannot fall back to itself.");
        }

        if (fallbacks.Distinct(StringComparer.Ordinal).Count() != fallbacks.Count)
        {
            Add("fallbacks", "A fallback is listed twice.");
        }

        if (Description?.Length > 500)
        {
            Add("description", "The description has at most 500 characters.");
        }

        if (Deployments.Count == 0)
        {
            Add("deployments", "A route needs at least one deployment.");
        }
        else if (Deployments.Count > MaxDeployments)
        {
            Add("deployments", $"A route has at most {MaxDeployments} deployments.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Deployments.Count; i++)
        {
            Deployments[i].Validate($"deployments[{i}]", names, Add);
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    public ModelRouteRequest ToRequest() => new(
        Alias.Trim(),
        Strategy,
        FallbackAliases,
        string.IsNullOrWhiteSpace(Description) ? null : Description.Trim(),
        [.. Deployments.Select(d => d.ToRequest())]);

    private string NextDeploymentName()
    {
        var number = Deployments.Count + 1;
        while (Deployments.Any(d => d.Name.Trim() == $"deployment-{number}"))
        {
            number++;
        }

        return $"deployment-{number}";
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/@-]*$")]
    private static partial Regex AliasRegex();
}

/// <summary>One deployment in the route editor; times in seconds and prices per million tokens, as people read them.</summary>
public sealed class DeploymentForm
{
    public string Name { get; set; } = "deployment-1";

    public string Provider { get; set; } = ModelProviders.OpenAi;

    public string? Endpoint { get; set; }

    public string Model { get; set; } = "";

    /// <summary>The provider credential, kept as it was: credentials are managed elsewhere.</summary>
    public Guid? CredentialId { get; set; }

    public int Priority { get; set; }

    public int Weight { get; set; } = 1;

    public double TimeoutSeconds { get; set; } = 60;

    public int MaxRetries { get; set; }

    public double CooldownSeconds { get; set; } = 30;

    public int ContextWindow { get; set; } = 128_000;

    /// <summary>Currency units per million input tokens.</summary>
    public decimal InputPrice { get; set; }

    public decimal OutputPrice { get; set; }

    public decimal CachedInputPrice { get; set; }

    public bool Enabled { get; set; } = true;

    public static DeploymentForm From(ModelDeployment deployment) => new()
    {
        Name = deployment.Name,
        Provider = deployment.Provider,
        Endpoint = deployment.Endpoint,
        Model = deployment.Model,
        CredentialId = deployment.CredentialId,
        Priority = deployment.Priority,
        Weight = deployment.Weight,
        TimeoutSeconds = deployment.Timeout.TotalSeconds,
        MaxRetries = deployment.MaxRetries,
        CooldownSeconds = deployment.Cooldown.TotalSeconds,
        ContextWindow = deployment.ContextWindow,
        InputPrice = ModelFormat.FromMicros(deployment.InputPriceMicros),
        OutputPrice = ModelFormat.FromMicros(deployment.OutputPriceMicros),
        CachedInputPrice = ModelFormat.FromMicros(deployment.CachedInputPriceMicros),
        Enabled = deployment.Enabled,
    };

    public ModelDeploymentRequest ToRequest() => new(
        Name.Trim(),
        Provider,
        string.IsNullOrWhiteSpace(Endpoint) ? null : Endpoint.Trim(),
        Model.Trim(),
        CredentialId,
        Priority,
        Weight,
        TimeSpan.FromSeconds(TimeoutSeconds),
        MaxRetries,
        TimeSpan.FromSeconds(CooldownSeconds),
        ContextWindow,
        ModelFormat.ToMicros(InputPrice),
        ModelFormat.ToMicros(OutputPrice),
        ModelFormat.ToMicros(CachedInputPrice),
        Enabled);

    internal void Validate(string field, HashSet<string> names, Action<string, string> add)
    {
        var name = Name.Trim();
        if (name.Length is 0 or > 100)
        {
            add($"{field}.name", "The name has 1 to 100 characters.");
        }
        else if (!names.Add(name))
        {
            add($"{field}.name", $"The deployment name '{name}' is used twice in this route.");
        }

        if (!ModelProviders.All.Contains(Provider))
        {
            add($"{field}.provider", $"The provider is one of {string.Join(", ", ModelProviders.All)}.");
        }

        ValidateEndpoint(field, add);
        if (Model.Trim().Length is 0 or > 200)
        {
            add($"{field}.model", "Enter the provider's model name (at most 200 characters).");
        }

        if (Priority is < 0 or > ModelDeploymentLimits.MaxPriority)
        {
            add($"{field}.priority", "The priority is between 0 and 1000 (lower is tried first).");
        }

        if (Weight is < 1 or > ModelDeploymentLimits.MaxWeight)
        {
            add($"{field}.weight", "The weight is between 1 and 1000.");
        }

        if (!(TimeoutSeconds > 0 && TimeoutSeconds <= ModelDeploymentLimits.MaxTimeout.TotalSeconds))
        {
            add($"{field}.timeout", $"The timeout is more than 0 and at most {ModelDeploymentLimits.MaxTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
        }

        if (!(CooldownSeconds > 0 && CooldownSeconds <= ModelDeploymentLimits.MaxCooldown.TotalSeconds))
        {
            add($"{field}.cooldown", $"The cooldown is more than 0 and at most {ModelDeploymentLimits.MaxCooldown.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds.");
        }

        if (MaxRetries is < 0 or > ModelDeploymentLimits.MaxRetries)
        {
            add($"{field}.maxRetries", "Retries are between 0 and 5.");
        }

        if (ContextWindow is < 1 or > ModelDeploymentLimits.MaxContextWindow)
        {
            add($"{field}.contextWindow", "The context window is a positive number of tokens.");
        }

        if (InputPrice < 0 || OutputPrice < 0 || CachedInputPrice < 0)
        {
            add($"{field}.prices", "Prices are zero or more.");
        }
    }

    private void ValidateEndpoint(string field, Action<string, string> add)
    {
        var endpoint = Endpoint?.Trim();
        if (string.IsNullOrEmpty(endpoint))
        {
            if (Provider is ModelProviders.AzureOpenAi or ModelProviders.Ollama)
            {
                add($"{field}.endpoint", $"A {Provider} deployment needs its endpoint (an absolute http or https URL).");
            }

            return;
        }

        if (Provider == ModelProviders.Offline)
        {
            add($"{field}.endpoint", "An offline deployment calls no endpoint; leave it empty.");
        }
        else if (endpoint.Length > 500 || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            add($"{field}.endpoint", "The endpoint is an absolute http or https URL.");
        }
    }
}
