using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace AgentPlatform.Infrastructure.Persistence;

/// <summary>The embedded topology's store. Carries the SQLite migrations.</summary>
public sealed class SqliteAgentPlatformDbContext(DbContextOptions<SqliteAgentPlatformDbContext> options, ITenantContext tenantContext)
    : AgentPlatformDbContext(options, tenantContext)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite keeps no time zone: every timestamp the platform writes is UTC, so read it back as UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        value => value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime(),
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

/// <summary>The distributed topology's store. Carries the PostgreSQL migrations.</summary>
public sealed class PostgresAgentPlatformDbContext(DbContextOptions<PostgresAgentPlatformDbContext> options, ITenantContext tenantContext)
    : AgentPlatformDbContext(options, tenantContext);
