using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Orchestration;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Models;
using AgentPlatform.Worker.Tools;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Worker.Tests.Tools;

/// <summary>
/// The gateway over a real database: which tools a sub-agent is offered, refusals of everything else (also when the
/// allowlist changes after the offer), and the audit record, span and metrics of every call.
/// </summary>
public abstract class ToolGatewayTests : DatabaseTest
{
    // Per test: the spans and metrics of tests running in parallel must not count as this one's.
    private string Tenant { get; } = $"acme-{Guid.NewGuid():N}"[..20];

    private Guid TaskId { get; } = Guid.CreateVersion7();

    protected ToolGatewayTests()
    {
        ToolExecution = new(Tenant, TaskId, $"{BuiltInSubAgents.ToolExecution}@1.0.0");
        Analysis = new(Tenant, TaskId, $"{BuiltInSubAgents.Analysis}@1.0.0");
    }

    private ToolCallContext ToolExecution { get; }

    private ToolCallContext Analysis { get; }

    [Fact]
    public async Task The_tool_execution_sub_agent_is_offered_every_built_in_tool_and_other_sub_agents_none()
    {
        var gateway = (await StartAsync()).Services.GetRequiredService<ToolGateway>();

        Assert.Equal(["calculator", "http_fetch", "run_code"], gateway.GetTools(ToolExecution).Select(t => t.Name));
        Assert.Empty(gateway.GetTools(Analysis));
        Assert.Empty(gateway.GetTools(new ToolCallContext(Tenant, TaskId, "unknown-agent")));
        var fetch = gateway.GetTools(ToolExecution).Single(t => t.Name == "http_fetch");
        Assert.Contains("egress allowlist", fetch.Description, StringComparison.Ordinal);
        Assert.Equal("url", Assert.Single(fetch.JsonSchema.GetProperty("required").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task A_configured_allowlist_replaces_the_default()
    {
        var gateway = (await StartAsync(new()
        {
            ["Tools:Allowlists:tool-execution:0"] = "calculator",
            ["Tools:Allowlists:analysis:0"] = "calculator",
            ["Tools:Allowlists:analysis:1"] = "run_code",
            ["Tools:Allowlists:retrieval:0"] = "",
        })).Services.GetRequiredService<ToolGateway>();

        Assert.Equal(["calculator"], gateway.GetTools(ToolExecution).Select(t => t.Name));
        Assert.Equal(["calculator", "run_code"], gateway.GetTools(Analysis).Select(t => t.Name));
        Assert.Empty(gateway.GetTools(new ToolCallContext(Tenant, TaskId, BuiltInSubAgents.Retrieval)));
    }

    [Fact]
    public async Task An_allowlist_naming_an_unknown_tool_stops_the_host_at_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            StartAsync(new() { ["Tools:Allowlists:analysis:0"] = "shell" }));

        Assert.Contains("'shell'", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_offered_tool_runs_and_its_call_is_audited_with_task_sub_agent_duration_and_output_size()
    {
        var host = await StartAsync();
        var calculator = host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution).Single(t => t.Name == "calculator");

        var result = (JsonElement)(await calculator.InvokeAsync(new AIFunctionArguments { ["expression"] = "6 * 7" }, Ct))!;

        Assert.Equal("42", result.GetProperty("value").GetString());
        var (record, details) = Assert.Single(await AuditAsync(host));
        Assert.Equal(ToolGateway.CalledAction, record.Action);
        Assert.Equal("tool", record.TargetType);
        Assert.Equal("calculator", record.TargetId);
        Assert.Equal(AuditActor.System.Type, record.ActorType);
        Assert.Equal(TaskId, details.TaskId);
        Assert.Equal("tool-execution@1.0.0", details.SubAgentId);
        Assert.Equal(ToolGateway.Succeeded, details.Outcome);
        Assert.Equal("6 * 7", details.Arguments["expression"]);
        Assert.Equal(result.GetRawText().Length, details.OutputBytes);
        Assert.True(details.DurationMs >= 0);
        Assert.Null(details.ErrorCode);
    }

    [Fact]
    public async Task A_chat_clients_function_invocation_loop_calls_offered_tools_through_the_gateway()
    {
        var host = await StartAsync();
        var model = new ScriptedModel();
        using var chat = new FunctionInvokingChatClient(model);

        var response = await chat.GetResponseAsync(
            "What is 6 times 7?", new ChatOptions { Tools = [.. host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution)] }, Ct);

        Assert.Equal("The tool said: {\"value\":\"42\",\"exact\":true}", response.Text);
        var (record, details) = Assert.Single(await AuditAsync(host));
        Assert.Equal(ToolGateway.CalledAction, record.Action);
        Assert.Equal("6 * 7", details.Arguments["expression"]);
    }

    [Fact]
    public async Task A_tool_error_reaches_the_model_as_a_message_and_is_audited_as_failed()
    {
        var host = await StartAsync();
        var calculator = host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution).Single(t => t.Name == "calculator");

        var result = (JsonElement)(await calculator.InvokeAsync(new AIFunctionArguments { ["expression"] = "1 / 0" }, Ct))!;

        Assert.Equal("division_by_zero", result.GetProperty("code").GetString());
        Assert.Equal("Division by zero.", result.GetProperty("error").GetString());
        var (record, details) = Assert.Single(await AuditAsync(host));
        Assert.Equal(ToolGateway.CalledAction, record.Action);
        Assert.Equal(ToolGateway.Failed, details.Outcome);
        Assert.Equal("division_by_zero", details.ErrorCode);
        Assert.Null(details.OutputBytes);
    }

    [Fact]
    public async Task A_tool_not_on_the_allowlist_is_refused_when_called_directly_and_the_refusal_is_audited()
    {
        var host = await StartAsync();
        var gateway = host.Services.GetRequiredService<ToolGateway>();

        var refused = (JsonElement)(await gateway.InvokeAsync(Analysis, "run_code", new() { ["language"] = "python", ["code"] = "print(1)" }, Ct))!;
        var unknown = (JsonElement)(await gateway.InvokeAsync(ToolExecution, "delete_everything", null, Ct))!;

        Assert.Equal(ToolException.NotAllowed, refused.GetProperty("code").GetString());
        Assert.Equal("The tool 'run_code' is not available to sub-agent 'analysis@1.0.0'.", refused.GetProperty("error").GetString());
        Assert.Equal(ToolException.NotAllowed, unknown.GetProperty("code").GetString());
        var audit = await AuditAsync(host);
        Assert.Equal(2, audit.Count);
        Assert.All(audit, a => Assert.Equal(ToolGateway.RefusedAction, a.Record.Action));
        Assert.All(audit, a => Assert.Equal(ToolGateway.Refused, a.Details.Outcome));
        Assert.All(audit, a => Assert.Equal(TaskId, a.Details.TaskId));
        Assert.Equal(["run_code", "delete_everything"], audit.Select(a => a.Record.TargetId));
        Assert.Equal("analysis@1.0.0", audit[0].Details.SubAgentId);
        Assert.Equal("print(1)", audit[0].Details.Arguments["code"]);
    }

    [Fact]
    public async Task An_offered_tool_is_refused_once_the_allowlist_no_longer_names_it()
    {
        var host = await StartAsync();
        var calculator = host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution).Single(t => t.Name == "calculator");
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();

        configuration["Tools:Allowlists:tool-execution:0"] = "http_fetch";
        configuration.Reload();
        var result = (JsonElement)(await calculator.InvokeAsync(new AIFunctionArguments { ["expression"] = "1 + 1" }, Ct))!;

        Assert.Equal(ToolException.NotAllowed, result.GetProperty("code").GetString());
        var (record, _) = Assert.Single(await AuditAsync(host));
        Assert.Equal(ToolGateway.RefusedAction, record.Action);
    }

    [Fact]
    public async Task A_tool_offered_for_one_task_is_refused_under_another_tasks_model_calls()
    {
        var host = await StartAsync();
        var calculator = host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution).Single(t => t.Name == "calculator");

        JsonElement result;
        using (ModelCallScope.Begin(Tenant, null, Guid.CreateVersion7(), "main", ToolExecution.SubAgentId))
        {
            result = (JsonElement)(await calculator.InvokeAsync(new AIFunctionArguments { ["expression"] = "1 + 1" }, Ct))!;
        }

        Assert.Equal(ToolException.ContextMismatch, result.GetProperty("code").GetString());
        using (ModelCallScope.Begin(Tenant, null, TaskId, "main", ToolExecution.SubAgentId))
        {
            Assert.Equal(ToolCallContext.FromCurrentScope(), ToolExecution);
            result = (JsonElement)(await calculator.InvokeAsync(new AIFunctionArguments { ["expression"] = "1 + 1" }, Ct))!;
        }

        Assert.Equal("2", result.GetProperty("value").GetString());
    }

    [Fact]
    public async Task Audit_records_keep_no_url_credentials_or_query_and_only_a_preview_of_long_arguments()
    {
        var host = await StartAsync(new() { ["Tools:RunCode:RunscPath"] = "/nonexistent/runsc" });
        var tools = host.Services.GetRequiredService<ToolGateway>().GetTools(ToolExecution).ToDictionary(t => t.Name);
        var code = "# " + new string('x', 10_000) + " SECRET-AT-THE-END";

        var fetched = (JsonElement)(await tools["http_fetch"].InvokeAsync(
            new AIFunctionArguments { ["url"] = "https://user:hunter2@api.example.com/v1/items?token=SECRET-TOKEN#frag" }, Ct))!;
        var ran = (JsonElement)(await tools["run_code"].InvokeAsync(new AIFunctionArguments { ["language"] = "python", ["code"] = code }, Ct))!;
        await host.Services.GetRequiredService<ToolGateway>().InvokeAsync(
            ToolExecution, "calculator", new() { ["expression"] = "1", ["api_key"] = "sk-SECRET" }, Ct);

        Assert.Equal(ToolException.InvalidArguments, fetched.GetProperty("code").GetString());
        Assert.Equal(ToolException.Unavailable, ran.GetProperty("code").GetString());
        Assert.StartsWith(GVisorSandbox.NotInstalledMessage, ran.GetProperty("error").GetString(), StringComparison.Ordinal);
        var audit = await AuditAsync(host);
        Assert.Equal(3, audit.Count);
        Assert.All(audit, a => Assert.DoesNotContain("SECRET", a.Record.Details, StringComparison.Ordinal));
        Assert.All(audit, a => Assert.DoesNotContain("hunter2", a.Record.Details, StringComparison.Ordinal));
        Assert.Equal("https://api.example.com/v1/items?…", audit[0].Details.Arguments["url"]);
        Assert.Equal(string.Concat(code.AsSpan(0, 200), "… (10020 chars)"), audit[1].Details.Arguments["code"]);
        Assert.Equal(ToolException.Unavailable, audit[1].Details.ErrorCode);
        Assert.Equal("[redacted]", audit[2].Details.Arguments["api_key"]);
        await using var scope = host.CreateTenantScope(Tenant);
        Assert.True((await scope.ServiceProvider.GetRequiredService<AuditTrail>().VerifyAsync(Ct)).IsValid);
    }

    [Fact]
    public async Task Every_call_gets_a_span_with_the_correlation_ids_and_is_counted()
    {
        var host = await StartAsync();
        var gateway = host.Services.GetRequiredService<ToolGateway>();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ToolGateway.Source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var measurements = new ConcurrentQueue<(string Instrument, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ToolMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Tags(tags))));
        meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Tags(tags))));
        meters.Start();

        await gateway.InvokeAsync(ToolExecution, "calculator", new() { ["expression"] = "2 + 2" }, Ct);
        await gateway.InvokeAsync(Analysis, "calculator", new() { ["expression"] = "2 + 2" }, Ct);

        var mine = spans.Where(s => s.GetTagItem(PlatformTags.TaskId) as string == TaskId.ToString()).ToList();
        Assert.Equal(2, mine.Count);
        Assert.All(mine, s => Assert.Equal("execute_tool calculator", s.DisplayName));
        Assert.All(mine, s => Assert.Equal(Tenant, s.GetTagItem(PlatformTags.TenantId)));
        Assert.All(mine, s => Assert.Equal("calculator", s.GetTagItem(ToolMetrics.ToolTag)));
        Assert.Equal(["tool-execution@1.0.0", "analysis@1.0.0"], mine.Select(s => s.GetTagItem(PlatformTags.SubAgentId)));
        Assert.Equal(ActivityStatusCode.Unset, mine[0].Status);
        Assert.Equal(ActivityStatusCode.Error, mine[1].Status);
        var calls = measurements.Where(m => m.Instrument == ToolMetrics.Calls && Tenant.Equals(m.Tags[PlatformTags.TenantId])).ToList();
        Assert.Contains(calls, m => ToolGateway.Succeeded.Equals(m.Tags[ToolMetrics.OutcomeTag]) && "tool-execution@1.0.0".Equals(m.Tags[PlatformTags.SubAgentId]));
        Assert.Contains(calls, m => ToolGateway.Refused.Equals(m.Tags[ToolMetrics.OutcomeTag]) && "analysis@1.0.0".Equals(m.Tags[PlatformTags.SubAgentId]));
        Assert.Contains(measurements, m => m.Instrument == ToolMetrics.Duration);
    }

    private Task<PlatformTestHost> StartAsync(Dictionary<string, string?>? settings = null) =>
        CreateHostAsync(builder => builder.AddToolGateway(), settings, start: true);

    private async Task<List<(AuditRecord Record, ToolCallAuditDetails Details)>> AuditAsync(PlatformTestHost host)
    {
        await using var scope = host.CreateTenantScope(Tenant);
        var records = await scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>().AuditRecords.AsNoTracking()
            .Where(r => r.TargetType == ToolGateway.AuditTargetType).OrderBy(r => r.Sequence).ToListAsync(Ct);
        return [.. records.Select(r => (r, JsonSerializer.Deserialize<ToolCallAuditDetails>(r.Details!, JsonSerializerOptions.Web)!))];
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            result[key] = value;
        }

        return result;
    }
}

/// <summary>A model that calls the calculator once, then answers with what the tool returned.</summary>
internal sealed class ScriptedModel : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().FirstOrDefault();
        var reply = result is null
            ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", "calculator", new Dictionary<string, object?>
            {
                ["expression"] = JsonSerializer.SerializeToElement("6 * 7"),
            })])
            : new ChatMessage(ChatRole.Assistant, $"The tool said: {JsonSerializer.Serialize(result.Result)}");
        return Task.FromResult(new ChatResponse(reply));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

public sealed class SqliteToolGatewayTests : ToolGatewayTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreateSqlite();
}

public sealed class PostgresToolGatewayTests : ToolGatewayTests
{
    protected override TestDatabase CreateDatabase() => TestDatabase.CreatePostgres();
}
