namespace AgentPlatform.Domain.Models;

/// <summary>How a route spreads calls over its deployments.</summary>
public static class RouteStrategies
{
    public const string Priority = "priority";
    public const string Weighted = "weighted";
    public const string LowestLatency = "lowest-latency";
    public const string LeastBusy = "least-busy";

    public static IReadOnlyList<string> All { get; } = [Priority, Weighted, LowestLatency, LeastBusy];
}

/// <summary>The kinds of upstream a deployment can call.</summary>
public static class ModelProviders
{
    /// <summary>Any OpenAI-compatible endpoint; without an endpoint, api.openai.com.</summary>
    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure-openai";
    public const string Ollama = "ollama";

    /// <summary>Answers in-process without any upstream (tests, demos, air-gapped development).</summary>
    public const string Offline = "offline";

    public static IReadOnlyList<string> All { get; } = [OpenAi, AzureOpenAi, Ollama, Offline];
}

/// <summary>The bounds of a deployment's settings, the same for platform routes (configuration) and tenant routes (admin API).</summary>
public static class ModelDeploymentLimits
{
    public const int MaxPriority = 1000;
    public const int MaxWeight = 1000;
    public const int MaxRetries = 5;
    public const int MaxContextWindow = 100_000_000;

    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(10);

    public static readonly TimeSpan MaxCooldown = TimeSpan.FromHours(1);
}
