using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentPlatform.Infrastructure.Persistence;

/// <summary>
/// Appends many rows to an append-only table in one transaction with multi-row <c>INSERT</c>s, binding every
/// value through EF Core's own type mappings (so it is stored exactly as <c>SaveChanges</c> would store it),
/// without change tracking. For tables written on a hot path (model usage): several times cheaper per row
/// than <c>SaveChanges</c>. It bypasses <c>SaveChanges</c>' tenancy check, so callers must set every row's
/// tenant themselves. Synchronous on purpose: SQLite's driver blocks even in its async methods, so a writer
/// belongs on a thread of its own, never on the thread pool that serves requests.
/// </summary>
public static class BulkInsert
{
    // SQLite allows 32,766 variables per statement, PostgreSQL 65,535 parameters.
    private const int MaxParametersPerCommand = 30_000;

    public static void Insert<T>(AgentPlatformDbContext db, IReadOnlyList<T> rows) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var entityType = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped.");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var columns = entityType.GetProperties()
            .Select(property => (Property: property, Column: property.GetColumnName(table), Mapping: property.GetRelationalTypeMapping(), Getter: property.GetGetter()))
            .Where(column => column.Column is not null)
            .ToList();
        var sql = db.GetService<ISqlGenerationHelper>();
        var head = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Column!)))}) VALUES ";
        var rowsPerCommand = Math.Max(1, MaxParametersPerCommand / columns.Count);

        db.Database.OpenConnection();
        try
        {
            var connection = db.Database.GetDbConnection();
            using var transaction = connection.BeginTransaction();
            for (var start = 0; start < rows.Count; start += rowsPerCommand)
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                var text = new StringBuilder(head);
                var end = Math.Min(rows.Count, start + rowsPerCommand);
                for (var row = start; row < end; row++)
                {
                    text.Append(row == start ? "(" : ", (");
                    for (var i = 0; i < columns.Count; i++)
                    {
                        var name = $"p{((row - start) * columns.Count) + i}";
                        var (property, _, mapping, getter) = columns[i];
                        command.Parameters.Add(mapping.CreateParameter(command, sql.GenerateParameterName(name), getter.GetClrValue(rows[row]), property.IsNullable));
                        text.Append(i == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                    }

                    text.Append(')');
                }

                command.CommandText = text.ToString();
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        finally
        {
            db.Database.CloseConnection();
        }
    }
}
