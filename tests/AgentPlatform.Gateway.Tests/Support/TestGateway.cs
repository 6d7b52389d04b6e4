using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Gateway.Tests.Support;

/// <summary>
/// The gateway in-process on a real loopback port, configured the way the AppHost configures it (service
/// discovery by configuration, the JWKS of the control plane) with <see cref="TestBackend"/> as every backend.
/// Its clock is <see cref="Clock"/>, a fake one: token buckets refill and caches expire only when a test
/// advances it.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly Factory factory;

    private TestGateway(Factory factory, Uri address)
    {
        this.factory = factory;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => factory.Services;

    /// <summary>The gateway's clock, or null when it runs on the real one.</summary>
    public FakeTimeProvider? Clock => factory.Clock;

    public CapturedLogs Logs => factory.Logs;

    public static TestGateway Start(
        TestBackend backend,
        IReadOnlyDictionary<string, string?>? settings = null,
        bool fakeClock = true,
        Action<IServiceCollection>? configureServices = null)
    {
        var backendAddress = backend.Address.ToString();
        var configuration = new Dictionary<string, string?>
        {
            ["Authentication:Issuer"] = TestTokens.Issuer,
            ["Authentication:JwksUri"] = new Uri(backend.Address, "/.well-known/jwks.json").ToString(),
            ["services:controlplane:http:0"] = backendAddress,
            ["services:modelgateway:http:0"] = backendAddress,
            ["services:console:http:0"] = backendAddress,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var factory = new Factory(configuration, fakeClock ? new FakeTimeProvider(DateTimeOffset.UtcNow) : null, configureServices);
        // Not UseKestrel(0): it rewrites the server's addresses while the app binds them (dotnet/aspnetcore#67714).
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGateway(factory, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal)));
    }

    /// <summary>A client of the gateway; <paramref name="bearer"/> (an access token or API key) goes in <c>Authorization</c>.</summary>
    public HttpClient CreateClient(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    public async ValueTask DisposeAsync() => await factory.DisposeAsync();

    private sealed class Factory(
        IReadOnlyDictionary<string, string?> settings,
        FakeTimeProvider? clock,
        Action<IServiceCollection>? configureServices) : WebApplicationFactory<Program>
    {
        public FakeTimeProvider? Clock => clock;

        public CapturedLogs Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
            builder.ConfigureTestServices(services =>
            {
                if (clock is not null)
                {
                    services.AddSingleton<TimeProvider>(clock);
                }

                configureServices?.Invoke(services);
            });
        }
    }
}
