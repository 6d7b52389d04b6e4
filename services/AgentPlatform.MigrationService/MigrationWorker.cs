using System.Diagnostics;
using AgentPlatform.Infrastructure.Persistence;

namespace AgentPlatform.MigrationService;

/// <summary>
/// Applies pending migrations, then stops the process: exit code 0 lets the services that wait for this step
/// start; a failure exits non-zero and they stay stopped instead of running against a stale schema.
/// </summary>
internal sealed class MigrationWorker(DatabaseMigrator migrator, IHostApplicationLifetime lifetime, ILogger<MigrationWorker> logger)
    : BackgroundService
{
    public static readonly ActivitySource ActivitySource = new("AgentPlatform.Migrations");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = ActivitySource.StartActivity("Migrate relational store");
        try
        {
            await migrator.MigrateAsync(stoppingToken);
            logger.LogInformation("The relational store is up to date.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            activity?.AddException(exception);
            logger.LogCritical(exception, "Migrating the relational store failed.");
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
