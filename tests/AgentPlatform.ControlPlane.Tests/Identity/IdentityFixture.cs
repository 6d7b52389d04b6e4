using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>
/// One <see cref="RunningPlatform"/> per test class with identity settings of the class's choosing, started on
/// first use (so a missing PostgreSQL skips instead of failing the fixture) and stopped after the class.
/// </summary>
public abstract class IdentityFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private TestDatabase? database;
    private RunningPlatform? platform;

    /// <summary>
    /// These suites sign in far more often than a person would; the gateway's per-address limit on
    /// <c>/auth</c> is the edge's subject, not theirs.
    /// </summary>
    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Gateway:RateLimits:ClientAddress:Capacity"] = "100000",
        ["Gateway:RateLimits:ClientAddress:RefillPerSecond"] = "10000",
    };

    protected abstract TestDatabase CreateDatabase();

    public async Task<RunningPlatform> GetAsync()
    {
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (platform is null)
            {
                database = CreateDatabase();
                platform = await RunningPlatform.StartAsync(database, Settings);
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

        gate.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteIdentityFixture : IdentityFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresIdentityFixture : IdentityFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}

/// <summary>New signing keys are published only three seconds before they sign, so a test can watch one take over.</summary>
public abstract class ShortKeyLeadFixture : IdentityFixture
{
    public static readonly TimeSpan PublishLeadTime = TimeSpan.FromSeconds(3);

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Gateway:RateLimits:ClientAddress:Capacity"] = "100000",
        ["Gateway:RateLimits:ClientAddress:RefillPerSecond"] = "10000",
        ["Identity:SigningKeyPublishLeadTime"] = PublishLeadTime.ToString(),
    };
}

public sealed class SqliteShortKeyLeadFixture : ShortKeyLeadFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresShortKeyLeadFixture : ShortKeyLeadFixture
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
