using Microsoft.Extensions.Configuration;

namespace AgentPlatform.AppHost;

internal static class GatewayExtensions
{
    /// <summary>Command-line switch <c>--gateway-port</c>: the gateway's fixed local port (default 8080).</summary>
    public const string GatewayPortKey = "gateway-port";

    public const int DefaultGatewayPort = 8080;

    /// <summary>
    /// The gateway is the platform's one public address: a fixed port on the machine in run mode
    /// (http://localhost:8080) and an external endpoint when deployed.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithPublicAddress(this IResourceBuilder<ProjectResource> gateway, IConfiguration configuration)
    {
        var port = configuration.GetValue(GatewayPortKey, DefaultGatewayPort);
        return gateway
            .WithEndpoint("http", endpoint => endpoint.Port = port)
            .WithExternalHttpEndpoints();
    }
}
