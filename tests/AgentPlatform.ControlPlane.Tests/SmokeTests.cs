using System.Net;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests;

public sealed class SmokeTests : IAsyncLifetime
{
    private readonly TestDatabase database = TestDatabase.CreateSqlite();
    private RunningPlatform? platform;

    public async ValueTask InitializeAsync() => platform = await RunningPlatform.StartAsync(database);

    public async ValueTask DisposeAsync()
    {
        if (platform is not null)
        {
            await platform.DisposeAsync();
        }

        await database.DisposeAsync();
    }

    [Fact]
    public async Task The_gateway_answers_health_and_routes_to_the_control_plane()
    {
        var ct = TestContext.Current.CancellationToken;
        using var health = await platform!.Gateway.GetAsync(new Uri("/health", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var version = await platform.Gateway.GetAsync(new Uri("/api/version", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        Assert.Contains("controlplane", await version.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }
}
