using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.Identity;

/// <summary>New signing keys are published only three seconds before they sign, so a test can watch one take over.</summary>
public abstract class ShortKeyLeadFixture : PlatformFixture
{
    public static readonly TimeSpan PublishLeadTime = TimeSpan.FromSeconds(3);

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
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
