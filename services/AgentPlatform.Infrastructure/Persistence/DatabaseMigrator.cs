using System.Data.Common;
using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPlatform.Infrastructure.Persistence;

/// <summary>
/// Brings the relational store to the latest schema. Only the migration step runs it; services wait for
/// that step and refuse to report healthy while migrations are pending (<see cref="DatabaseHealthCheck"/>).
/// </summary>
public sealed class DatabaseMigrator(IServiceScopeFactory scopeFactory, ILogger<DatabaseMigrator> logger)
{
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();

        if (db.Database.GetDbConnection() is SqliteConnection sqlite)
        {
            await PrepareSqliteAsync(sqlite, cancellationToken);
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        logger.LogInformation("Applying {Count} migration(s) to the {Provider} store: {Migrations}",
            pending.Count, db.Database.ProviderName, string.Join(", ", pending));
        // EF Core takes a migration lock, so concurrent migrators wait for each other instead of colliding.
        await db.Database.MigrateAsync(cancellationToken);
    }

    private static async Task PrepareSqliteAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(connection.ConnectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Write-ahead logging lets the services read while another one writes; the mode is stored in the file.
        await connection.OpenAsync(cancellationToken);
        try
        {
            await using DbCommand command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await connection.CloseAsync();
        }
    }
}
