using System.Globalization;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;
using AgentPlatform.Testing.ModelUpstream;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>One deployment of a platform route, pointing at the scripted upstream's model <see cref="Model"/>.</summary>
public sealed record TestDeployment(string Name, string Model)
{
    public int Priority { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxRetries { get; init; }

    /// <summary>Long enough that a cooldown never ends inside a test.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(5);

    public long InputPriceMicros { get; init; }

    public long OutputPriceMicros { get; init; }
}

/// <summary>A platform route by alias: its deployments (tried by priority) and fallback aliases.</summary>
public sealed record TestRoute(string Alias, IReadOnlyList<TestDeployment> Deployments, IReadOnlyList<string>? Fallbacks = null)
{
    /// <summary>A route whose deployments are named a, b, … and call upstream models <c>{alias}-a</c>, <c>{alias}-b</c>, ….</summary>
    public static TestRoute Of(string alias, int deployments, Func<TestDeployment, TestDeployment>? configure = null, params string[] fallbacks)
    {
        var list = new List<TestDeployment>();
        for (var i = 0; i < deployments; i++)
        {
            var name = ((char)('a' + i)).ToString();
            var deployment = new TestDeployment(name, $"{alias}-{name}") { Priority = i };
            list.Add(configure is null ? deployment : configure(deployment));
        }

        return new TestRoute(alias, list, fallbacks);
    }

    public string UpstreamModel(string deployment) => $"{Alias}-{deployment}";
}

/// <summary>
/// A <see cref="RunningPlatform"/> whose model gateway routes point at one <see cref="ScriptedOpenAiUpstream"/>,
/// started on first use and shared by a test class. Every test uses routes (and so upstream models) of its own,
/// so scripts, calls and cooldowns of one test never touch another.
/// </summary>
public abstract class ModelGatewayFixture : PlatformFixture
{
    public const string ProviderKey = "sk-test-upstream";

    public ScriptedOpenAiUpstream Upstream { get; private set; } = null!;

    protected abstract IEnumerable<TestRoute> Routes { get; }

    /// <summary>Settings beyond the routes, e.g. rate limits.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>();

    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();

    protected override async ValueTask<IReadOnlyDictionary<string, string?>> CreateSettingsAsync()
    {
        Upstream = await ScriptedOpenAiUpstream.StartAsync(TestContext.Current.CancellationToken);
        var settings = new Dictionary<string, string?>(ExtraSettings);
        foreach (var route in Routes)
        {
            AddRoute(settings, route, Upstream.BaseAddress);
        }

        return settings;
    }

    protected override async ValueTask DisposeDependenciesAsync()
    {
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
    }

    private static void AddRoute(Dictionary<string, string?> settings, TestRoute route, Uri upstream)
    {
        var prefix = $"ModelGateway:Routes:{route.Alias}";
        settings[$"{prefix}:Strategy"] = "priority";
        for (var i = 0; i < (route.Fallbacks?.Count ?? 0); i++)
        {
            settings[$"{prefix}:Fallbacks:{i}"] = route.Fallbacks![i];
        }

        for (var i = 0; i < route.Deployments.Count; i++)
        {
            var deployment = route.Deployments[i];
            var d = $"{prefix}:Deployments:{i}";
            settings[$"{d}:Name"] = deployment.Name;
            settings[$"{d}:Provider"] = "openai";
            settings[$"{d}:Endpoint"] = upstream.ToString();
            settings[$"{d}:Model"] = deployment.Model;
            settings[$"{d}:ApiKey"] = ProviderKey;
            settings[$"{d}:Priority"] = deployment.Priority.ToString(CultureInfo.InvariantCulture);
            settings[$"{d}:Timeout"] = deployment.Timeout.ToString("c", CultureInfo.InvariantCulture);
            settings[$"{d}:MaxRetries"] = deployment.MaxRetries.ToString(CultureInfo.InvariantCulture);
            settings[$"{d}:Cooldown"] = deployment.Cooldown.ToString("c", CultureInfo.InvariantCulture);
            settings[$"{d}:InputPriceMicros"] = deployment.InputPriceMicros.ToString(CultureInfo.InvariantCulture);
            settings[$"{d}:OutputPriceMicros"] = deployment.OutputPriceMicros.ToString(CultureInfo.InvariantCulture);
        }
    }
}
