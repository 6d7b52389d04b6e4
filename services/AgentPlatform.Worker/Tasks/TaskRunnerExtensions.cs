using AgentPlatform.Infrastructure.Tokens;
using AgentPlatform.ServiceDefaults;
using AgentPlatform.Worker.Agents;
using AgentPlatform.Worker.Agents.MicroGraph;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Temporalio.Converters;
using Temporalio.Extensions.Hosting;

namespace AgentPlatform.Worker.Tasks;

public static class TaskRunnerExtensions
{
    /// <summary>
    /// The Main Agent, the built-in sub-agents and the activities of the macro flow, run by the runner the
    /// configuration picks (section <c>TaskRunner</c>): the embedded runner (default), or Temporal workflows.
    /// </summary>
    public static IHostApplicationBuilder AddTaskRunner(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TaskRunnerOptions>().BindConfiguration(TaskRunnerOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) => options.TemporalAddress ??= configuration.GetConnectionString(ResourceNames.Temporal))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.AddModelGatewayClient();
        builder.Services.TryAddSingleton<ITokenEstimator, O200kTokenEstimator>();
        builder.Services.AddScoped<TaskContent>();
        builder.Services.AddSingleton<SubAgentGraph>();
        builder.Services.AddSingleton<StructuredModelCall>();

        builder.Services.AddSingleton<ISubAgent, AnalysisSubAgent>();
        builder.Services.AddSingleton<ISubAgent, RetrievalSubAgent>();
        builder.Services.AddSingleton<ISubAgent, ToolExecutionSubAgent>();
        builder.Services.AddSingleton<SubAgentCatalog>();

        builder.Services.AddSingleton<ITaskActivity, PrepareActivity>();
        builder.Services.AddSingleton<ITaskActivity, PlanActivity>();
        builder.Services.AddSingleton<ITaskActivity, RouteActivity>();
        builder.Services.AddSingleton<ITaskActivity, RunSubAgentActivity>();
        builder.Services.AddSingleton<ITaskActivity, AggregateActivity>();
        builder.Services.AddSingleton<ITaskActivity, JudgeActivity>();
        builder.Services.AddSingleton<ITaskActivity, CompleteActivity>();
        builder.Services.AddSingleton<ITaskActivity, FailActivity>();
        builder.Services.AddSingleton<ITaskActivity, CancelActivity>();
        builder.Services.AddSingleton<TaskActivityHost>();
        builder.Services.AddSingleton<TaskJournal>();

        var runner = builder.Configuration[$"{TaskRunnerOptions.SectionName}:{nameof(TaskRunnerOptions.Runner)}"];
        if (string.Equals(runner, TaskRunnerOptions.Temporal, StringComparison.Ordinal))
        {
            builder.Services.AddTemporalTaskRunner();
        }
        else
        {
            builder.Services.AddSingleton<TaskLeases>();
            builder.Services.AddHostedService<EmbeddedTaskRunner>();
        }

        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(TaskActivityHost.Source.Name))
            .WithMetrics(metrics => metrics.AddMeter(TaskMetrics.MeterName));
        return builder;
    }

    /// <summary>
    /// The Temporal runner: one client (lazily connected, claim-check codec) shared by a hosted worker for the
    /// <see cref="TaskWorkflow"/> and its activities on <see cref="TaskRunnerOptions.TemporalTaskQueue"/>, and by the
    /// <see cref="TemporalTaskStarter"/> that starts a workflow per queued task.
    /// </summary>
    public static IServiceCollection AddTemporalTaskRunner(this IServiceCollection services)
    {
        services.AddSingleton<ClaimCheckPayloadCodec>();
        services.AddTemporalClient()
            .Configure<IOptions<TaskRunnerOptions>, ClaimCheckPayloadCodec>((client, runner, codec) =>
            {
                client.TargetHost = runner.Value.TemporalAddress;
                client.Namespace = runner.Value.TemporalNamespace;
                client.DataConverter = DataConverter.Default with { PayloadCodec = codec };
            });
        services.AddHostedTemporalWorker(TaskRunnerOptions.TemporalTaskQueue)
            .AddSingletonActivities<TaskWorkflowActivities>()
            .AddWorkflow<TaskWorkflow>();
        services.AddHostedService<TemporalTaskStarter>();
        return services;
    }
}
