using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.ServiceDefaults;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.AppHost.Tests;

/// <summary>
/// Starts the real AppHost in the embedded topology (every service a process, no containers) the way
/// <c>dotnet run --project AppHost</c> does, and checks it from the outside through the gateway.
/// </summary>
public sealed class EmbeddedTopologyTests
{
    private static readonly string[] Services =
    [
        ResourceNames.ControlPlane, ResourceNames.ModelGateway, ResourceNames.Worker, ResourceNames.Console, ResourceNames.Gateway,
    ];

    [Fact]
    public async Task Every_service_becomes_healthy_and_the_gateway_routes_to_each_backend()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataDirectory = Directory.CreateTempSubdirectory("agentplatform-apphost-").FullName;
        try
        {
            var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AgentPlatform_AppHost>(
                ["--infra", "embedded", "--data-dir", dataDirectory], ct);
            await using var app = await appHost.BuildAsync(ct);

            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            Assert.DoesNotContain(model.Resources, resource => resource is ContainerResource);

            using var startup = CancellationTokenSource.CreateLinkedTokenSource(ct);
            startup.CancelAfter(TimeSpan.FromMinutes(3));
            await app.StartAsync(startup.Token);
            await app.ResourceNotifications.WaitForResourceAsync(ResourceNames.Migrations, KnownResourceStates.Finished, startup.Token);
            foreach (var service in Services)
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(service, startup.Token);
            }

            Assert.True(File.Exists(Path.Combine(dataDirectory, "agentplatform.db")), "the embedded store lives in the data directory");

            // The testing builder moves fixed ports to free ones, so ask the app where the gateway listens.
            using var gateway = new HttpClient { BaseAddress = app.GetEndpoint(ResourceNames.Gateway, "http") };

            using var health = await gateway.GetAsync(new Uri("/health", UriKind.Relative), ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", await health.Content.ReadAsStringAsync(ct));
            Assert.Matches("^[0-9a-f]{32}$", health.Headers.GetValues("x-trace-id").Single());

            var controlPlane = await gateway.GetFromJsonAsync<ServiceVersion>(new Uri("/api/version", UriKind.Relative), ct);
            Assert.Equal(ResourceNames.ControlPlane, controlPlane?.Service);

            var modelGateway = await gateway.GetFromJsonAsync<ServiceVersion>(new Uri("/v1/version", UriKind.Relative), ct);
            Assert.Equal(ResourceNames.ModelGateway, modelGateway?.Service);

            using var consolePage = await gateway.GetAsync(new Uri("/", UriKind.Relative), ct);
            Assert.Equal(HttpStatusCode.OK, consolePage.StatusCode);
            Assert.Contains("<title>Sign in · AgentPlatform</title>", await consolePage.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

            foreach (var (document, title) in new[] { ("controlplane", "AgentPlatform.ControlPlane"), ("modelgateway", "AgentPlatform.ModelGateway") })
            {
                using var openApi = await gateway.GetAsync(new Uri($"/openapi/{document}.json", UriKind.Relative), ct);
                Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
                using var json = JsonDocument.Parse(await openApi.Content.ReadAsStringAsync(ct));
                Assert.StartsWith(title, json.RootElement.GetProperty("info").GetProperty("title").GetString(), StringComparison.Ordinal);
            }

            using var reference = await gateway.GetAsync(new Uri("/api-reference", UriKind.Relative), ct);
            Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
            Assert.Contains("openapi/controlplane.json", await reference.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
