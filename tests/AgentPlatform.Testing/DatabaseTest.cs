using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Testing;

/// <summary>
/// A test over one fresh <see cref="TestDatabase"/> and any number of <see cref="PlatformTestHost"/>s on it;
/// all of them are disposed after the test, hosts first.
/// </summary>
public abstract class DatabaseTest : IAsyncLifetime
{
    private readonly List<PlatformTestHost> hosts = [];
    private TestDatabase? database;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract TestDatabase CreateDatabase();

    /// <summary>
    /// Creates the database. Overrides read whatever may skip the test (an unconfigured service) before calling
    /// this, because xunit does not dispose a test whose initialization skipped it.
    /// </summary>
    public virtual ValueTask InitializeAsync()
    {
        database = CreateDatabase();
        return ValueTask.CompletedTask;
    }

    /// <summary>A migrated host over this test's database, disposed with the test.</summary>
    protected async Task<PlatformTestHost> CreateHostAsync(
        Action<IHostApplicationBuilder>? configure = null,
        IReadOnlyDictionary<string, string?>? configuration = null,
        bool start = false)
    {
        var host = await PlatformTestHost.CreateAsync(
            database ?? throw new InvalidOperationException("The database is created in InitializeAsync."), configure, configuration, start);
        hosts.Add(host);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        if (database is not null)
        {
            await database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
