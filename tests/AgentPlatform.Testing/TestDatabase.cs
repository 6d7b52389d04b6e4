using AgentPlatform.ServiceDefaults;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentPlatform.Testing;

/// <summary>
/// A fresh, empty relational store for one test: a SQLite file in a temporary data directory, or a new
/// database on the PostgreSQL server of <see cref="TestInfrastructure.Postgres"/>. It is selected the way
/// production selects it, through configuration, and dropped on dispose.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    /// <summary>The configuration a host needs to use this database.</summary>
    public abstract IReadOnlyDictionary<string, string?> Configuration { get; }

    public abstract string Provider { get; }

    public static TestDatabase CreateSqlite() => new SqliteTestDatabase();

    public static TestDatabase CreatePostgres() => new PostgresTestDatabase(TestInfrastructure.Postgres);

    public abstract ValueTask DisposeAsync();

    private sealed class SqliteTestDatabase : TestDatabase
    {
        private readonly string directory = Directory.CreateTempSubdirectory("agentplatform-test-").FullName;

        public override string Provider => "SQLite";

        public override IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
        {
            ["Platform:DataDirectory"] = directory,
        };

        public override ValueTask DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class PostgresTestDatabase(string serverConnectionString) : TestDatabase
    {
        private readonly string databaseName = $"agentplatform_test_{Guid.NewGuid():N}";

        public override string Provider => "PostgreSQL";

        public override IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>
        {
            [$"ConnectionStrings:{ResourceNames.Database}"] = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = databaseName }.ConnectionString,
        };

        public override async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres" }.ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"DROP DATABASE IF EXISTS \"{databaseName}\" WITH (FORCE)";
            await command.ExecuteNonQueryAsync();
        }
    }
}
