extern alias console;
extern alias controlplane;
extern alias gateway;
extern alias modelgateway;
extern alias worker;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.ControlPlane.Tests.Support;

/// <summary>
/// The public path of the platform, in-process and on real loopback sockets: the gateway in front of the
/// control plane and the model gateway, configured exactly as the AppHost configures them (service
/// discovery by configuration, the gateway's address as token issuer) over a migrated
/// <see cref="TestDatabase"/>. Tests talk to <see cref="Gateway"/> like any client would. The admin console, which
/// the gateway serves at <c>/</c>, runs only once <see cref="StartConsole"/> has started it.
/// </summary>
public sealed class RunningPlatform : IAsyncDisposable
{
    /// <summary>The bootstrap <c>admin</c>'s password (tenant <c>default</c>).</summary>
    public const string AdminPassword = "Correct-Horse-Battery-Staple-1";

    /// <summary>The Worker's service client, as the AppHost configures it.</summary>
    public const string WorkerClientId = "worker";

    public static readonly string WorkerClientSecret = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    private readonly List<IAsyncDisposable> factories = [];

    private readonly Lock consoleLock = new();
    private bool consoleStarted;

    private readonly PortReservation gatewayPort;
    private readonly PortReservation consolePort;

    private RunningPlatform(PortReservation gatewayPort, PortReservation consolePort)
    {
        (this.gatewayPort, this.consolePort) = (gatewayPort, consolePort);
        GatewayAddress = new Uri($"http://127.0.0.1:{gatewayPort.Port}");
        ConsoleAddress = new Uri($"http://127.0.0.1:{consolePort.Port}");
    }

    public Uri GatewayAddress { get; }

    /// <summary>
    /// Where the gateway sends the console's routes. Nothing listens there (the routes answer 502) until
    /// <see cref="StartConsole"/>; people and browser tests use the console through <see cref="GatewayAddress"/>.
    /// </summary>
    public Uri ConsoleAddress { get; }

    /// <summary>The control plane's own address, for tests that must bypass the gateway.</summary>
    public Uri ControlPlaneAddress { get; private set; } = null!;

    public IServiceProvider ControlPlaneServices { get; private set; } = null!;

    public IServiceProvider GatewayServices { get; private set; } = null!;

    public Uri ModelGatewayAddress { get; private set; } = null!;

    /// <summary>What every service of this platform is configured with (database, issuer, secrets …).</summary>
    public IReadOnlyDictionary<string, string?> SharedSettings { get; private set; } = null!;

    /// <summary>A client of the gateway, the platform's public address.</summary>
    public HttpClient Gateway { get; private set; } = null!;

    public static async Task<RunningPlatform> StartAsync(TestDatabase database, IReadOnlyDictionary<string, string?>? settings = null)
    {
        await using (await PlatformTestHost.CreateAsync(database))
        {
            // Creating the host applied the migrations, as the AppHost's migration step would.
        }

        var platform = new RunningPlatform(new PortReservation(), new PortReservation());
        var shared = new Dictionary<string, string?>(database.Configuration)
        {
            ["Authentication:Issuer"] = platform.GatewayAddress.ToString().TrimEnd('/'),
            ["Secrets:KeyEncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Identity:BootstrapAdminPassword"] = AdminPassword,
            // Tests sign in far more often than people do; the edge's limits are the gateway tests' subject.
            ["Gateway:RateLimits:ClientAddress:Capacity"] = "100000",
            ["Gateway:RateLimits:ClientAddress:RefillPerSecond"] = "10000",
            // A revoked API key stops working at the edge within a second instead of a minute.
            ["Gateway:ApiKeys:MaxCacheDuration"] = "00:00:01",
            [$"Identity:ServiceClients:{WorkerClientId}:Secret"] = WorkerClientSecret,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            shared[key] = value;
        }

        var controlPlane = platform.Start(new ServiceFactory<controlplane::Program>(shared), port: 0);
        var controlPlaneAddress = controlPlane.Address;
        platform.ControlPlaneAddress = controlPlaneAddress;
        platform.ControlPlaneServices = controlPlane.Services;

        var withControlPlane = new Dictionary<string, string?>(shared)
        {
            ["services:controlplane:http:0"] = controlPlaneAddress.ToString(),
        };
        var modelGateway = platform.Start(new ServiceFactory<modelgateway::Program>(withControlPlane), port: 0);
        platform.ModelGatewayAddress = modelGateway.Address;
        platform.SharedSettings = new Dictionary<string, string?>(withControlPlane)
        {
            ["services:modelgateway:http:0"] = modelGateway.Address.ToString(),
        };

        var gatewaySettings = new Dictionary<string, string?>(withControlPlane)
        {
            ["services:modelgateway:http:0"] = modelGateway.Address.ToString(),
            // The console's port stays free until StartConsole: till then its routes answer 502.
            ["services:console:http:0"] = platform.ConsoleAddress.ToString(),
        };
        var gatewayFactory = platform.Start(new ServiceFactory<gateway::Program>(gatewaySettings), platform.gatewayPort.Release());
        platform.GatewayServices = gatewayFactory.Services;
        platform.Gateway = new HttpClient { BaseAddress = platform.GatewayAddress };
        return platform;
    }

    /// <summary>
    /// Starts a Worker (the embedded task runner) on this platform, configured as the AppHost configures it;
    /// dispose it to stop it. Several may run at once, as several worker replicas would.
    /// </summary>
    public IAsyncDisposable StartWorker(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var workerSettings = WorkerSettings(settings);
        var factory = new ServiceFactory<worker::Program>(workerSettings);
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        return factory;
    }

    /// <summary>
    /// Starts the admin console on <see cref="ConsoleAddress"/>, where the gateway routes <c>/</c>, configured as the
    /// AppHost configures it (the control plane and the model gateway by service discovery). It stops with the
    /// platform; a second call is a no-op, as one console answers for the platform.
    /// </summary>
    public void StartConsole(IReadOnlyDictionary<string, string?>? settings = null)
    {
        lock (consoleLock)
        {
            if (consoleStarted)
            {
                return;
            }

            var consoleSettings = new Dictionary<string, string?>(SharedSettings)
            {
                // The console's appsettings log every HTTP call at Information; a failing test's output needs less.
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                consoleSettings[key] = value;
            }

            Start(new ServiceFactory<console::Program>(consoleSettings), consolePort.Release());
            consoleStarted = true;
        }
    }

    /// <summary>The configuration a Worker of this platform runs with, in-process or as its own process.</summary>
    public Dictionary<string, string?> WorkerSettings(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var workerSettings = new Dictionary<string, string?>(SharedSettings)
        {
            ["ServiceTokens:ClientId"] = WorkerClientId,
            ["ServiceTokens:Secret"] = WorkerClientSecret,
            ["TaskRunner:PollInterval"] = "00:00:00.100",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            workerSettings[key] = value;
        }

        return workerSettings;
    }

    /// <summary>A client of the gateway that sends <paramref name="accessToken"/> as bearer token.</summary>
    public HttpClient CreateClient(string? accessToken)
    {
        var client = new HttpClient { BaseAddress = GatewayAddress };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    /// <summary>A unit of work in the control plane acting for <paramref name="tenantId"/>, e.g. to inspect state.</summary>
    public AsyncServiceScope CreateTenantScope(string tenantId)
    {
        var scope = ControlPlaneServices.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        return scope;
    }

    public async ValueTask DisposeAsync()
    {
        gatewayPort.Dispose();
        consolePort.Dispose();
        Gateway?.Dispose();
        for (var i = factories.Count - 1; i >= 0; i--)
        {
            await factories[i].DisposeAsync();
        }
    }

    private (Uri Address, IServiceProvider Services) Start<TEntryPoint>(ServiceFactory<TEntryPoint> factory, int port) where TEntryPoint : class
    {
        factories.Add(factory);
        // Kestrel's own listen option, not UseKestrel(port): that one rewrites the server's addresses after the
        // app has started binding them, a race that fails a start now and then (dotnet/aspnetcore#67714).
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal)), factory.Services);
    }

    /// <summary>
    /// A loopback port the platform needs to know before the service that listens on it starts (the gateway's address
    /// is the issuer every service is configured with). The port stays bound until <see cref="Release"/>, just before
    /// Kestrel binds it: a port merely found free would be open for seconds, and any socket of a test running in
    /// parallel could take it meanwhile.
    /// </summary>
    private sealed class PortReservation : IDisposable
    {
        private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public PortReservation()
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        public int Port { get; }

        /// <summary>Frees the port for the service about to bind it; returns it.</summary>
        public int Release()
        {
            Dispose();
            return Port;
        }

        public void Dispose() => socket.Dispose();
    }

    private sealed class ServiceFactory<TEntryPoint>(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<TEntryPoint>
        where TEntryPoint : class
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        }
    }
}
