using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentPlatform.Infrastructure.Persistence;

/// <summary>
/// Appends many rows to an append-only table in one transaction, binding every value through EF Core's own
/// type mappings (so it is stored exactly as <c>SaveChanges</c> would store it), without change tracking. For
/// tables written on a hot path (model usage). It bypasses <c>SaveChanges</c>' tenancy check, so callers must set
/// every row's tenant themselves. Synchronous on purpose: SQLite's driver blocks even in its async methods, so a
/// writer belongs on a thread of its own, never on the thread pool that serves requests.
/// </summary>
/// <remarks>
/// One single-row <c>INSERT</c> is prepared once and sent per row; where the driver batches commands (Npgsql) all
/// rows go in one round trip. Measured on SQLite (docs/benchmarks.md): a prepared statement costs about a quarter
/// of a multi-row <c>INSERT</c> per row, whose parse time grows with its number of parameters.
/// </remarks>
public static class BulkInsert
{
    private static readonly ConcurrentDictionary<(IModel Model, Type Type), Statement> Statements = new();

    public static void Insert<T>(AgentPlatformDbContext db, IReadOnlyList<T> rows) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var statement = Statements.GetOrAdd((db.Model, typeof(T)), key => Statement.For(db, key.Type));
        db.Database.OpenConnection();
        try
        {
            var connection = db.Database.GetDbConnection();
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = statement.Sql;
            if (connection.CanCreateBatch)
            {
                using var batch = connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var row in rows)
                {
                    var batchCommand = batch.CreateBatchCommand();
                    batchCommand.CommandText = statement.Sql;
                    statement.Bind(command, batchCommand.Parameters, row);
                    batch.BatchCommands.Add(batchCommand);
                }

                batch.ExecuteNonQuery();
            }
            else
            {
                foreach (var row in rows)
                {
                    command.Parameters.Clear();
                    statement.Bind(command, command.Parameters, row);
                    command.ExecuteNonQuery();
                }
            }

            transaction.Commit();
        }
        finally
        {
            db.Database.CloseConnection();
        }
    }

    /// <summary>The single-row <c>INSERT</c> of an entity type, and how each of its values is bound.</summary>
    private sealed class Statement
    {
        private readonly List<(IProperty Property, RelationalTypeMapping Mapping, IClrPropertyGetter Getter, string Parameter)> columns;

        private Statement(string sql, List<(IProperty, RelationalTypeMapping, IClrPropertyGetter, string)> columns)
        {
            Sql = sql;
            this.columns = columns;
        }

        public string Sql { get; }

        public static Statement For(AgentPlatformDbContext db, Type type)
        {
            var entityType = db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not mapped.");
            var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
            var sql = db.GetService<ISqlGenerationHelper>();
            var mapped = entityType.GetProperties()
                .Select(property => (Property: property, Column: property.GetColumnName(table)))
                .Where(column => column.Column is not null)
                .Select((column, index) => (column.Property, column.Column!, Name: $"p{index}"))
                .ToList();
            var text = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", mapped.Select(c => sql.DelimitIdentifier(c.Item2)))}) " +
                $"VALUES ({string.Join(", ", mapped.Select(c => sql.GenerateParameterNamePlaceholder(c.Name)))})";
            return new Statement(text, mapped
                .Select(c => (c.Property, c.Property.GetRelationalTypeMapping(), c.Property.GetGetter(), sql.GenerateParameterName(c.Name)))
                .ToList());
        }

        /// <summary>Adds <paramref name="row"/>'s values to <paramref name="parameters"/>, created by <paramref name="command"/>'s driver.</summary>
        public void Bind(DbCommand command, DbParameterCollection parameters, object row)
        {
            foreach (var (property, mapping, getter, name) in columns)
            {
                parameters.Add(mapping.CreateParameter(command, name, getter.GetClrValue(row), property.IsNullable));
            }
        }
    }
}
