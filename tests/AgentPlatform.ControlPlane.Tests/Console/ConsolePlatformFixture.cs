using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Testing;

namespace AgentPlatform.ControlPlane.Tests.Console;

/// <summary>The platform with its admin console, for the browser tests (SQLite: the console's subject is not storage).</summary>
public sealed class ConsolePlatformFixture : PlatformFixture
{
    protected override bool StartsConsole => true;

    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}
