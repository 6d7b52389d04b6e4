using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Testing;

/// <summary>
/// A host composed the way the services compose theirs (the same <c>Add…</c> extensions, the same
/// configuration keys) over a <see cref="TestDatabase"/> that has been migrated.
/// </summary>
public sealed class PlatformTestHost : IAsyncDisposable
{
    private readonly IHost host;
    private bool disposed;

    private PlatformTestHost(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;

    public static async Task<PlatformTestHost> CreateAsync(
        TestDatabase database,
        Action<IHostApplicationBuilder>? configure = null,
        IReadOnlyDictionary<string, string?>? configuration = null,
        bool start = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = Environments.Development,
            DisableDefaults = true,
        });
        builder.Configuration.AddInMemoryCollection(database.Configuration);
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddPlatformDatabase();
        configure?.Invoke(builder);

        var host = builder.Build();
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(TestContext.Current.CancellationToken);
        if (start)
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }

        return new PlatformTestHost(host);
    }

    /// <summary>A unit of work acting for <paramref name="tenantId"/>.</summary>
    public AsyncServiceScope CreateTenantScope(string tenantId)
    {
        var scope = host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        return scope;
    }

    /// <summary>A unit of work with no tenant at all (as an anonymous request would have).</summary>
    public AsyncServiceScope CreateAnonymousScope() => host.Services.CreateAsyncScope();

    /// <summary>Platform background work that may write any tenant's rows.</summary>
    public AsyncServiceScope CreateSystemScope()
    {
        var scope = host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        return scope;
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        try
        {
            await host.StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            host.Dispose();
        }
    }
}
