using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Infrastructure.Secrets;

public static class SecretProtectionExtensions
{
    /// <summary>
    /// Registers <see cref="SecretProtector"/> with its key-encryption key (<c>Secrets:KeyEncryptionKey</c>),
    /// validated on start so a missing or weak key stops the service with a clear message.
    /// </summary>
    public static IHostApplicationBuilder AddSecretProtection(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(SecretProtector)))
        {
            return builder;
        }

        builder.Services.AddOptions<SecretsOptions>()
            .BindConfiguration(SecretsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<SecretProtector>();
        return builder;
    }
}
