using System.Diagnostics;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Status;

public enum ServiceHealth
{
    Healthy,
    Degraded,
    Unhealthy,
    Unreachable,
}

public sealed record ServiceStatus(string Service, ServiceHealth Health, TimeSpan ResponseTime, string? Version, string? Detail);

/// <summary>Asks each platform service for its readiness (<c>/health</c>) and, where it has one, its version.</summary>
public sealed class PlatformStatusClient(HttpClient http, IOptions<PlatformStatusOptions> options)
{
    private static readonly Dictionary<string, string> VersionPaths = new(StringComparer.OrdinalIgnoreCase)
    {
        [ResourceNames.ControlPlane] = "/api/version",
        [ResourceNames.ModelGateway] = "/v1/version",
    };

    public Task<ServiceStatus[]> GetStatusAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(options.Value.Services.Select(service => GetServiceStatusAsync(service, cancellationToken)));

    private async Task<ServiceStatus> GetServiceStatusAsync(string service, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.GetAsync(new Uri($"http://{service}{Extensions.HealthEndpointPath}"), cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started);
            var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            var health = Enum.TryParse<ServiceHealth>(body, ignoreCase: true, out var parsed) ? parsed : ServiceHealth.Unhealthy;
            var version = VersionPaths.TryGetValue(service, out var path) ? await GetVersionAsync(service, path, cancellationToken) : null;
            return new ServiceStatus(service, health, elapsed, version, response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}");
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ServiceStatus(service, ServiceHealth.Unreachable, Stopwatch.GetElapsedTime(started), null, exception.Message);
        }
    }

    private async Task<string?> GetVersionAsync(string service, string path, CancellationToken cancellationToken)
    {
        try
        {
            var version = await http.GetFromJsonAsync<ServiceVersion>(new Uri($"http://{service}{path}"), cancellationToken);
            return version?.Version;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}

public static class PlatformStatusExtensions
{
    public static IHostApplicationBuilder AddPlatformStatus(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PlatformStatusOptions>().BindConfiguration(PlatformStatusOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpClient<PlatformStatusClient>((services, http) =>
            http.Timeout = services.GetRequiredService<IOptions<PlatformStatusOptions>>().Value.Timeout);
        return builder;
    }
}
