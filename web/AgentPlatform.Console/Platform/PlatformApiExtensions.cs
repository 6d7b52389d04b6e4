using Microsoft.Extensions.Options;

namespace AgentPlatform.Console.Platform;

public static class PlatformApiExtensions
{
    /// <summary>Registers <see cref="PlatformApi"/> (scoped) and its two HTTP clients to the control plane.</summary>
    public static IHostApplicationBuilder AddPlatformApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(PlatformApi.HttpClientName, (provider, http) =>
            http.BaseAddress = provider.GetRequiredService<IOptions<ConsoleOptions>>().Value.ControlPlaneUrl);

#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; a stream must not be cut by a request timeout or retried from its start.
        builder.Services.AddHttpClient(PlatformApi.StreamingHttpClientName, (provider, http) =>
            {
                http.BaseAddress = provider.GetRequiredService<IOptions<ConsoleOptions>>().Value.ControlPlaneUrl;
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        builder.Services.AddScoped<PlatformApi>();
        return builder;
    }
}
