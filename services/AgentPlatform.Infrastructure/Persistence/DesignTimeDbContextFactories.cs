using AgentPlatform.Infrastructure.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AgentPlatform.Infrastructure.Persistence;

// Used by `dotnet ef migrations add` only (see scripts/add-migration.sh); no database is contacted.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAgentPlatformDbContext>
{
    public SqliteAgentPlatformDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAgentPlatformDbContext>()
            .UseSqlite("Data Source=design-time.db")
            .UseSnakeCaseNamingConvention()
            .Options, new TenantContext());
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAgentPlatformDbContext>
{
    public PostgresAgentPlatformDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAgentPlatformDbContext>()
            .UseNpgsql("Host=localhost;Database=agentplatform")
            .UseSnakeCaseNamingConvention()
            .Options, new TenantContext());
}
