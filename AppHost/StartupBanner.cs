using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.AppHost;

internal static class StartupBanner
{
    /// <summary>Tells the developer what is starting where, before the services' own logs scroll past.</summary>
    public static void LogTopology(this DistributedApplication app, PlatformInfrastructure infrastructure)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("AgentPlatform");
        var configuration = app.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        var port = configuration[GatewayExtensions.GatewayPortKey] ?? GatewayExtensions.DefaultGatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (infrastructure.Topology == PlatformTopology.Embedded)
        {
            logger.LogInformation(
                "AgentPlatform (embedded topology, no containers): gateway http://localhost:{Port}, data directory {DataDirectory}",
                port, infrastructure.DataDirectory);
        }
        else
        {
            logger.LogInformation(
                "AgentPlatform (distributed topology: PostgreSQL, Redis, Kafka, MinIO, Temporal containers): gateway http://localhost:{Port}",
                port);
        }
    }
}
