using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Infrastructure.Identity;

public static class ServiceTokenExtensions
{
    /// <summary>
    /// Registers <see cref="ServiceTokenClient"/> with its options (section <c>ServiceTokens</c>), validated on
    /// start so a missing client id or secret stops the service with a clear message. Its HttpClient gets the
    /// defaults of every HttpClient (service discovery, resilience) where the host added them.
    /// </summary>
    public static IHostApplicationBuilder AddServiceTokens(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(ServiceTokenClient)))
        {
            return builder;
        }

        builder.Services.AddOptions<ServiceTokenOptions>()
            .BindConfiguration(ServiceTokenOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient(ServiceTokenClient.HttpClientName);
        builder.Services.AddSingleton<ServiceTokenClient>();
        return builder;
    }
}
