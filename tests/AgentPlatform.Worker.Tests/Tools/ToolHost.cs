using AgentPlatform.Testing;
using AgentPlatform.Worker.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Worker.Tests.Tools;

/// <summary>A started host with <see cref="ToolGatewayExtensions.AddToolGateway"/> and no database, for the tools themselves.</summary>
internal sealed class ToolHost : IAsyncDisposable
{
    private readonly IHost host;

    private ToolHost(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;

    public T Tool<T>() where T : ITool => Services.GetServices<ITool>().OfType<T>().Single();

    public static async Task<ToolHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IHostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        configure?.Invoke(builder);
        builder.AddToolGateway();
        var host = builder.Build();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new ToolHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }
}

/// <summary>
/// gVisor for the <c>run_code</c> tests, like <see cref="TestInfrastructure"/>'s services: missing on a laptop it skips
/// them with the reason; with <c>AGENTPLATFORM_REQUIRE_INFRASTRUCTURE=true</c> (CI) it fails them.
/// </summary>
internal static class GVisor
{
    public static void Require()
    {
        var runsc = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "runsc"))
            .FirstOrDefault(File.Exists);
        if (runsc is null)
        {
            Missing("gVisor is not installed: 'apt-get install -y runsc' (Debian) to run the sandbox tests.");
        }
        else if (!Environment.IsPrivilegedProcess)
        {
            Missing("The sandbox tests run runsc as root (cgroups for the memory limit); this test process is not root.");
        }
        else if (!File.Exists("/usr/bin/python3"))
        {
            Missing("The sandbox tests run /usr/bin/python3: 'apt-get install -y python3'.");
        }
    }

    private static void Missing(string reason)
    {
        if (TestInfrastructure.IsRequired)
        {
            throw new InvalidOperationException($"{reason} {TestInfrastructure.RequireVariable} is set, so a missing gVisor fails the run.");
        }

        Assert.Skip(reason);
    }
}
