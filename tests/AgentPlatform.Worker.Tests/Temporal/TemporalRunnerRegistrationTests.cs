using AgentPlatform.Worker.Tasks;
using AgentPlatform.Worker.Tasks.Embedded;
using AgentPlatform.Worker.Tasks.Temporal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Temporalio.Client;

namespace AgentPlatform.Worker.Tests.Temporal;

/// <summary>The configuration picks the runner: embedded by default, Temporal with <c>TaskRunner:Runner=temporal</c> and an address.</summary>
public sealed class TemporalRunnerRegistrationTests
{
    [Fact]
    public void The_embedded_runner_is_the_default()
    {
        var services = Compose([]);

        Assert.Contains(services, d => d.ImplementationType == typeof(EmbeddedTaskRunner));
        Assert.DoesNotContain(services, d => d.ImplementationType == typeof(TemporalTaskStarter));
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ITemporalClient));
    }

    [Fact]
    public void The_temporal_runner_replaces_the_embedded_one_with_a_temporal_worker_and_the_starter()
    {
        var services = Compose(new() { ["TaskRunner:Runner"] = "temporal", ["ConnectionStrings:temporal"] = "temporal.internal:7233" });

        Assert.DoesNotContain(services, d => d.ImplementationType == typeof(EmbeddedTaskRunner));
        Assert.Contains(services, d => d.ImplementationType == typeof(TemporalTaskStarter));
        Assert.Contains(services, d => d.ServiceType == typeof(ITemporalClient));
        Assert.Contains(services, d => d.ServiceType == typeof(TaskWorkflowActivities));
        using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IOptions<TemporalClientConnectOptions>>().Value;
        Assert.Equal("temporal.internal:7233", client.TargetHost);
        Assert.Equal("default", client.Namespace);
        Assert.IsType<ClaimCheckPayloadCodec>(client.DataConverter.PayloadCodec);
    }

    [Fact]
    public void An_explicit_address_and_namespace_win_over_the_connection_string()
    {
        using var provider = Compose(new()
        {
            ["TaskRunner:Runner"] = "temporal",
            ["TaskRunner:TemporalAddress"] = "127.0.0.1:7233",
            ["TaskRunner:TemporalNamespace"] = "agentplatform",
            ["ConnectionStrings:temporal"] = "temporal.internal:7233",
        }).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<TaskRunnerOptions>>().Value;

        Assert.Equal(("127.0.0.1:7233", "agentplatform"), (options.TemporalAddress, options.TemporalNamespace));
    }

    [Fact]
    public async Task The_temporal_runner_without_a_temporal_address_fails_the_start_with_a_message_that_says_what_to_set()
    {
        var builder = Builder(new() { ["TaskRunner:Runner"] = "temporal" });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("TaskRunner:Runner is 'temporal' but no Temporal address is configured", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:temporal", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_runner_is_a_startup_error()
    {
        using var provider = Compose(new() { ["TaskRunner:Runner"] = "celery" }).BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TaskRunnerOptions>>().Value);
    }

    private static IServiceCollection Compose(Dictionary<string, string?> settings) => Builder(settings).Services;

    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddTaskRunner();
        return builder;
    }
}
