using AgentPlatform.Domain.Tenancy;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Leases;
using AgentPlatform.Infrastructure.Tenancy;
using AgentPlatform.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AgentPlatform.Infrastructure.Persistence;

public static class PersistenceExtensions
{
    /// <summary>
    /// Registers <see cref="AgentPlatformDbContext"/> and the <see cref="AuditTrail"/> over it: PostgreSQL when the connection string
    /// <c>ConnectionStrings:agentplatform</c> is present, otherwise SQLite in the data directory.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PlatformOptions>().BindConfiguration(PlatformOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddScoped<TenantContext>();
        builder.Services.TryAddScoped<ITenantContext>(sp => sp.GetRequiredService<TenantContext>());
        builder.Services.TryAddSingleton<DistributedLeaseManager>();
        builder.Services.TryAddSingleton<DatabaseMigrator>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.TryAddScoped<AuditTrail>();

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ResourceNames.Database)))
        {
            builder.AddNpgsqlDataSource(ResourceNames.Database);
            builder.Services.AddDbContext<AgentPlatformDbContext, PostgresAgentPlatformDbContext>((services, options) =>
                options.UseNpgsql(services.GetRequiredService<NpgsqlDataSource>()).UseSnakeCaseNamingConvention());
        }
        else
        {
            var dataDirectory = builder.Configuration.GetSection(PlatformOptions.SectionName).Get<PlatformOptions>()?.DataDirectory
                ?? new PlatformOptions().DataDirectory;
            var connectionString = SqliteConnectionString(dataDirectory);
            builder.Services.AddDbContext<AgentPlatformDbContext, SqliteAgentPlatformDbContext>(options =>
                options.UseSqlite(connectionString).UseSnakeCaseNamingConvention());
        }

        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>The SQLite database of a data directory. Writers wait up to 30 s for each other's locks.</summary>
    public static string SqliteConnectionString(string dataDirectory) =>
        $"Data Source={Path.Combine(Path.GetFullPath(dataDirectory), "agentplatform.db")};Default Timeout=30;Pooling=True";
}
