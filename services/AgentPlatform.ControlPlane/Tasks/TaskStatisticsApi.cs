using System.Globalization;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// <c>GET /api/tasks/stats</c>: the admin console's dashboard figures (issue 6) for the caller's tenant: task volume,
/// outcomes, success rate, p50/p95 duration, tokens and cost per hour or day, and the sub-agents that fail most.
/// </summary>
public static class TaskStatisticsApi
{
    /// <summary>Maps <c>/stats</c> on the tasks group; a literal segment, so it never reaches <c>/{id}</c>.</summary>
    public static RouteGroupBuilder MapTaskStatistics(this RouteGroupBuilder tasks)
    {
        tasks.MapGet("/stats", GetStatisticsAsync).RequirePermission(Permissions.TasksRead);
        return tasks;
    }

    public static async Task<Results<Ok<TaskStatisticsResponse>, ValidationProblem>> GetStatisticsAsync(
        [AsParameters] TaskStatisticsQuery query, AgentPlatformDbContext db, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!TaskStatisticsWindow.TryResolve(query, timeProvider.GetUtcNow().UtcDateTime, out var window, out var field, out var error))
        {
            return Problems.Invalid(field, error);
        }

        var statistics = await TaskStatistics.ComputeAsync(db, window, TaskStatistics.MaxEndedTasks, cancellationToken);
        if (statistics is null)
        {
            return Problems.Invalid("from", string.Create(CultureInfo.InvariantCulture,
                $"The window holds more than {TaskStatistics.MaxEndedTasks:N0} ended tasks; ask for a shorter one."));
        }

        return TypedResults.Ok(statistics);
    }
}
