using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Infrastructure.ClaimCheck;

public static class ClaimCheckExtensions
{
    /// <summary>The local directory adapter's folder inside <see cref="PlatformOptions.DataDirectory"/>.</summary>
    public const string PayloadDirectoryName = "payloads";

    /// <summary>
    /// Registers the claim check: <see cref="IPayloadStore"/> (scoped, acting for the scope's tenant),
    /// <see cref="ClaimCheckOptions"/> and the <see cref="IBlobStorage"/> — S3 when the connection string
    /// <c>ConnectionStrings:objectstore</c> is present (with an <c>objectstore</c> health check), otherwise the
    /// <c>payloads</c> folder of the data directory. Needs <c>AddPlatformDatabase</c>.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformClaimCheck(this IHostApplicationBuilder builder)
    {
        if (builder.Services.Any(service => service.ServiceType == typeof(IBlobStorage)))
        {
            return builder;
        }

        builder.Services.AddOptions<ClaimCheckOptions>()
            .BindConfiguration(ClaimCheckOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultTimeToLive <= o.MaxTimeToLive, "ClaimCheck:DefaultTimeToLive must not exceed ClaimCheck:MaxTimeToLive.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);

        var objectStore = builder.Configuration.GetConnectionString(ResourceNames.ObjectStore);
        if (!string.IsNullOrWhiteSpace(objectStore))
        {
            // Parsed now, so a malformed connection string stops the service at startup.
            var settings = S3ConnectionSettings.Parse(objectStore);
            builder.Services.AddSingleton(_ => new S3BlobStorage(settings));
            builder.Services.AddSingleton<IBlobStorage>(services => services.GetRequiredService<S3BlobStorage>());
            builder.Services.AddHealthChecks().AddCheck<ObjectStoreHealthCheck>(ResourceNames.ObjectStore);
        }
        else
        {
            builder.Services.AddSingleton<IBlobStorage>(services => new LocalDirectoryBlobStorage(
                Path.Combine(services.GetRequiredService<IOptions<PlatformOptions>>().Value.DataDirectory, PayloadDirectoryName)));
        }

        builder.Services.TryAddScoped<IPayloadStore, PayloadStore>();
        return builder;
    }

    /// <summary>
    /// Adds <see cref="PayloadCleanupService"/>, which deletes expired payloads on one instance at a time, and
    /// <see cref="PayloadCleanup"/> for running a pass directly. Only the Worker runs it.
    /// </summary>
    public static IHostApplicationBuilder AddPayloadCleanup(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformClaimCheck();
        builder.Services.TryAddSingleton<PayloadCleanup>();
        builder.Services.AddHostedService<PayloadCleanupService>();
        return builder;
    }
}
