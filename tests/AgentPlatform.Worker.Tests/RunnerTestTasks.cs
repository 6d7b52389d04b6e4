using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Agents;
using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentPlatform.Worker.Tests;

/// <summary>
/// What the runners' tests share: a host with the real journal, activity host, outcome activities and the
/// Temporal runner's activities over scripted Main Agent and sub-agent activities, and tasks submitted to it.
/// </summary>
internal static class RunnerTestTasks
{
    public const string Tenant = "acme";
    public const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    public static void AddRunnerServices(IHostApplicationBuilder builder, ScriptedActivities script)
    {
        builder.Services.AddOptions<ClaimCheckOptions>().BindConfiguration(ClaimCheckOptions.SectionName);
        builder.Services.AddOptions<TaskRunnerOptions>().BindConfiguration(TaskRunnerOptions.SectionName);
        builder.Services.AddLogging();
        foreach (var activity in script.All())
        {
            builder.Services.AddSingleton(activity);
        }

        builder.Services.AddSingleton<ITaskActivity, CompleteActivity>();
        builder.Services.AddSingleton<ITaskActivity, FailActivity>();
        builder.Services.AddSingleton<ITaskActivity, CancelActivity>();
        builder.Services.AddSingleton<TaskActivityHost>();
        builder.Services.AddSingleton<TaskJournal>();
        builder.Services.AddSingleton<TaskWorkflowActivities>();
    }

    public static TaskFlowInput Input(Guid taskId) => new(taskId, Tenant, MainAgent.Id, "0af7651916cd43dd8448eb211c80319c", "user-1", "user-1", [], null);

    public static async Task<Guid> SubmitAsync(PlatformTestHost host, string status = TaskStatuses.Queued, int priority = 5)
    {
        await using var scope = host.CreateTenantScope(Tenant);
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var now = DateTime.UtcNow;
        var task = new AgentTask
        {
            Id = Guid.CreateVersion7(),
            TenantId = Tenant,
            Status = status,
            InputContentType = "text/plain",
            Input = "Compare both regions. Then draft a summary.",
            InputSize = 42,
            RequestHash = new string('0', 64),
            SubmittedBy = "user-1",
            ChargedUserId = "user-1",
            TraceId = "0af7651916cd43dd8448eb211c80319c",
            TraceParent = TraceParent,
            MainAgentId = MainAgent.Id,
            Priority = priority,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Tasks.Add(task);
        await TaskEventLog.AppendAsync(db, task, TaskEventTypes.Submitted, TaskEventTypes.Submitted, new { }, TestContext.Current.CancellationToken);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return task.Id;
    }

    public static async Task<AgentTask> ReadAsync(PlatformTestHost host, Guid taskId)
    {
        await using var scope = host.CreateTenantScope(Tenant);
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().Tasks.AsNoTracking()
            .SingleAsync(t => t.Id == taskId, TestContext.Current.CancellationToken);
    }

    public static async Task<List<TaskStep>> StepsAsync(PlatformTestHost host, Guid taskId)
    {
        await using var scope = host.CreateTenantScope(Tenant);
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().TaskSteps.AsNoTracking()
            .Where(s => s.TaskId == taskId).ToListAsync(TestContext.Current.CancellationToken);
    }

    public static async Task<List<TaskEvent>> EventsAsync(PlatformTestHost host, Guid taskId)
    {
        await using var scope = host.CreateTenantScope(Tenant);
        return await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().TaskEvents.AsNoTracking()
            .Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(TestContext.Current.CancellationToken);
    }
}
