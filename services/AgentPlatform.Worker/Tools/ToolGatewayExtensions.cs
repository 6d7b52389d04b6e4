using System.Net;
using AgentPlatform.Infrastructure.Networking;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

public static class ToolGatewayExtensions
{
    /// <summary>
    /// The <see cref="ToolGateway"/> and the built-in tools (<c>calculator</c>, <c>http_fetch</c>, <c>run_code</c>),
    /// configured from section <c>Tools</c> and validated at start. Needs the platform database (the audit trail).
    /// More tools: register further <see cref="ITool"/> singletons and name them in an allowlist.
    /// </summary>
    public static IHostApplicationBuilder AddToolGateway(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ToolGatewayOptions>().BindConfiguration(ToolGatewayOptions.SectionName).ValidateOnStart();
        builder.Services.AddOptions<HttpFetchOptions>().BindConfiguration(HttpFetchOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<RunCodeOptions>().BindConfiguration(RunCodeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ToolGatewayOptions>, ToolGatewayOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<HttpFetchOptions>, HttpFetchOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<RunCodeOptions>, RunCodeOptionsValidator>();

        builder.Services.AddSingleton<EgressPolicy>();
        builder.Services.AddSingleton<GVisorSandbox>();
        builder.Services.AddSingleton<ITool, CalculatorTool>();
        builder.Services.AddSingleton<ITool, HttpFetchTool>();
        builder.Services.AddSingleton<ITool, RunCodeTool>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ToolMetrics>();
        builder.Services.AddSingleton<ToolGateway>();
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(ToolGateway.Source.Name))
            .WithMetrics(metrics => metrics.AddMeter(ToolMetrics.MeterName));

        // Not the service defaults' client: their retries would repeat a fetch, and their service discovery would
        // resolve platform service names. Redirects are the tool's own (each hop is checked); the egress policy
        // connects only to allowed addresses; no proxy (it would dial instead of the checked address), no cookies.
        builder.Services.AddHttpClient(HttpFetchTool.HttpClientName, client =>
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("AgentPlatform-ToolGateway/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                PreAuthenticate = false,
                AutomaticDecompression = DecompressionMethods.All,
                ConnectCallback = services.GetRequiredService<EgressPolicy>().ConnectAsync,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                MaxResponseHeadersLength = 64,
            })
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Clear());
        return builder;
    }
}

internal sealed class ToolGatewayOptionsValidator(IEnumerable<ITool> tools) : IValidateOptions<ToolGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, ToolGatewayOptions options)
    {
        var known = tools.Select(t => t.AIFunction.Name).ToHashSet(StringComparer.Ordinal);
        var failures = options.Allowlists
            .SelectMany(list => list.Value.Where(tool => !string.IsNullOrWhiteSpace(tool) && !known.Contains(tool.Trim()))
                .Select(tool => $"Tools:Allowlists:{list.Key} names '{tool}', which is not a tool of this worker ({string.Join(", ", known.Order(StringComparer.Ordinal))})."))
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class HttpFetchOptionsValidator : IValidateOptions<HttpFetchOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpFetchOptions options)
    {
        var failures = new List<string>();
        foreach (var host in options.AllowedHosts)
        {
            var pattern = host.Trim();
            var bare = pattern.StartsWith("*.", StringComparison.Ordinal) ? pattern[2..] : pattern;
            if (bare.Length == 0 || bare.Contains('*', StringComparison.Ordinal)
                || (Uri.CheckHostName(bare) == UriHostNameType.Unknown && !IPAddress.TryParse(bare, out _)))
            {
                failures.Add($"Tools:HttpFetch:AllowedHosts has '{host}': use a host name, an IP address or '*.domain' (no scheme, port, path or bare '*').");
            }
        }

        foreach (var network in OutboundAddresses.InvalidNetworks(options.AllowedPrivateNetworks))
        {
            failures.Add($"Tools:HttpFetch:AllowedPrivateNetworks has '{network}', which is not a network in CIDR notation (e.g. 10.1.2.0/24).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class RunCodeOptionsValidator : IValidateOptions<RunCodeOptions>
{
    public ValidateOptionsResult Validate(string? name, RunCodeOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, path) in new[] { ("PythonPath", options.PythonPath), ("BashPath", options.BashPath) })
        {
            if (!string.IsNullOrEmpty(path) && !Path.IsPathFullyQualified(path))
            {
                failures.Add($"Tools:RunCode:{key} must be an absolute path (it is '{path}').");
            }
        }

        foreach (var path in options.AdditionalReadOnlyPaths)
        {
            if (!Path.IsPathFullyQualified(path) || path.TrimEnd('/').Length == 0 || path.Split('/').Contains(".."))
            {
                failures.Add($"Tools:RunCode:AdditionalReadOnlyPaths has '{path}': use an absolute path other than '/'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
