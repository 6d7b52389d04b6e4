using System.Net.Http.Json;
using System.Text.Json;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.Support;

/// <summary>
/// One <see cref="RunningPlatform"/> shared by the tests of a class, started on first use (so a test whose
/// backing service is not configured skips instead of failing the fixture) and stopped after the class.
/// </summary>
public abstract class PlatformFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private TestDatabase? database;
    private RunningPlatform? platform;

    /// <summary>Settings of the class's choosing, on top of <see cref="RunningPlatform"/>'s.</summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    /// <summary>Whether the platform runs the admin console too (<see cref="RunningPlatform.StartConsole"/>).</summary>
    protected virtual bool StartsConsole => false;

    protected abstract TestDatabase CreateDatabase();

    /// <summary>The settings the platform starts with; override to start what they point at first.</summary>
    protected virtual ValueTask<IReadOnlyDictionary<string, string?>> CreateSettingsAsync() => ValueTask.FromResult(Settings);

    /// <summary>Stops what <see cref="CreateSettingsAsync"/> started, after the platform has stopped.</summary>
    protected virtual ValueTask DisposeDependenciesAsync() => ValueTask.CompletedTask;

    public async Task<RunningPlatform> GetAsync()
    {
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (platform is null)
            {
                var settings = await CreateSettingsAsync();
                database = CreateDatabase();
                platform = await RunningPlatform.StartAsync(database, settings);
                if (StartsConsole)
                {
                    platform.StartConsole();
                }
            }

            return platform;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (platform is not null)
        {
            await platform.DisposeAsync();
        }

        if (database is not null)
        {
            await database.DisposeAsync();
        }

        await DisposeDependenciesAsync();
        gate.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqlitePlatformFixture : PlatformFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresPlatformFixture : PlatformFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}

public static class PlatformClientExtensions
{
    /// <summary>Signs in with the password grant through the gateway and returns the access token.</summary>
    public static async Task<string> SignInAsync(this RunningPlatform platform, string userName, string password)
    {
        using var response = await platform.Gateway.PostAsync(
            new Uri("/auth/token", UriKind.Relative),
            new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = userName,
                ["password"] = password,
            }),
            TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"Signing in as {userName} failed: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    public static Task<string> SignInAsAdminAsync(this RunningPlatform platform) =>
        platform.SignInAsync("admin", RunningPlatform.AdminPassword);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken));
}
