using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AgentPlatform.Domain.Telemetry;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Worker.Agents;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>
/// The only way a sub-agent reaches a tool. <see cref="GetTools"/> offers a sub-agent the tools on its allowlist
/// (<see cref="ToolGatewayOptions"/>), each wrapped so that every call checks the allowlist again (it may have changed),
/// checks that it runs for the task it was offered to, and is audited (<c>tool.called</c> or <c>tool.refused</c>, in
/// the task's tenant's audit trail), traced and counted. <see cref="InvokeAsync"/> calls a tool by name the same way,
/// for a model that names a tool it was not offered.
/// </summary>
public sealed class ToolGateway
{
    public const string CalledAction = "tool.called";
    public const string RefusedAction = "tool.refused";
    public const string AuditTargetType = "tool";

    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Refused = "refused";
    public const string Cancelled = "cancelled";

    private const int MaxAuditDetailsChars = 3500;
    private const string UnknownTool = "unknown";

    private readonly Dictionary<string, AIFunction> tools;
    private readonly IOptionsMonitor<ToolGatewayOptions> options;
    private readonly IServiceScopeFactory scopeFactory;
    private readonly ToolMetrics metrics;
    private readonly ILogger<ToolGateway> logger;

    public ToolGateway(
        IEnumerable<ITool> tools,
        IOptionsMonitor<ToolGatewayOptions> options,
        IServiceScopeFactory scopeFactory,
        ToolMetrics metrics,
        ILogger<ToolGateway> logger)
    {
        this.tools = tools.Select(t => t.AIFunction).ToDictionary(f => f.Name, StringComparer.Ordinal);
        this.options = options;
        this.scopeFactory = scopeFactory;
        this.metrics = metrics;
        this.logger = logger;
    }

    public static ActivitySource Source { get; } = new(ToolMetrics.MeterName);

    /// <summary>The names of every tool this worker has, allowed or not.</summary>
    public IReadOnlyCollection<string> ToolNames => tools.Keys;

    /// <summary>The tools <paramref name="context"/>'s sub-agent may call, ready for <c>ChatOptions.Tools</c>.</summary>
    public IReadOnlyList<AIFunction> GetTools(ToolCallContext context)
    {
        var allowed = options.CurrentValue.AllowedTools(context.SubAgentId);
        return
        [
            .. tools.Values.Where(f => allowed.Contains(f.Name)).OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new GatedFunction(this, context, f)),
        ];
    }

    /// <summary>
    /// Calls the tool named <paramref name="toolName"/> for <paramref name="context"/>: refused (and audited) when the
    /// sub-agent may not use it or it does not exist. Returns what the model gets: the tool's result, or a
    /// <see cref="ToolError"/> as JSON.
    /// </summary>
    public Task<object?> InvokeAsync(ToolCallContext context, string toolName, AIFunctionArguments? arguments, CancellationToken cancellationToken) =>
        CallAsync(context, toolName, tools.GetValueOrDefault(toolName), arguments ?? [], cancellationToken);

    private async Task<object?> CallAsync(ToolCallContext context, string name, AIFunction? function, AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var known = function is null ? UnknownTool : name;
        using var span = Source.StartActivity($"execute_tool {known}", ActivityKind.Internal);
        span?.SetTag("gen_ai.operation.name", "execute_tool")
            .SetTag(ToolMetrics.ToolTag, known)
            .SetTag(PlatformTags.TenantId, context.TenantId)
            .SetTag(PlatformTags.TaskId, context.TaskId.ToString())
            .SetTag(PlatformTags.SubAgentId, context.SubAgentId);

        var refusal = Refusal(context, name, function);
        if (refusal is not null)
        {
            logger.LogWarning("Refused a call of tool {Tool} by sub-agent {SubAgentId} of task {TaskId} (tenant {TenantId}): {Reason}",
                ToolArguments.Cut(name, 100), context.SubAgentId, context.TaskId, context.TenantId, refusal.Message);
            await FinishAsync(new CallRecord(context, name, known, Refused, arguments, started) { ErrorCode = refusal.Code, Error = refusal.Message }, span);
            return ErrorResult(refusal);
        }

        object? result;
        try
        {
            result = await function!.InvokeAsync(arguments, cancellationToken);
        }
        catch (ToolException exception)
        {
            await FinishAsync(new CallRecord(context, name, known, Failed, arguments, started) { ErrorCode = exception.Code, Error = exception.Message }, span);
            return ErrorResult(exception);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await FinishAsync(new CallRecord(context, name, known, Cancelled, arguments, started), span);
            throw;
        }
        catch (Exception exception)
        {
            // Unexpected: the model learns only that the call failed; the log has the exception.
            logger.LogError(exception, "Tool {Tool} failed for sub-agent {SubAgentId} of task {TaskId}.", name, context.SubAgentId, context.TaskId);
            await FinishAsync(new CallRecord(context, name, known, Failed, arguments, started) { ErrorCode = "internal_error", Error = exception.GetType().Name }, span);
            throw;
        }

        await FinishAsync(new CallRecord(context, name, known, Succeeded, arguments, started) { OutputBytes = SizeOf(result) }, span);
        return result;
    }

    private ToolException? Refusal(ToolCallContext context, string name, AIFunction? function)
    {
        if (function is null || !options.CurrentValue.AllowedTools(context.SubAgentId).Contains(name))
        {
            return new ToolException(ToolException.NotAllowed, $"The tool '{ToolArguments.Cut(name, 100)}' is not available to sub-agent '{context.SubAgentId}'.");
        }

        // Offered tools belong to one task: one used under another task's model calls is a bug that would audit the
        // call in the wrong tenant.
        if (ModelCallScope.Current is { } scope && (scope.TenantId != context.TenantId || scope.TaskId != context.TaskId))
        {
            return new ToolException(ToolException.ContextMismatch, "This tool was offered for another task; it cannot be called from this one.");
        }

        return null;
    }

    private async Task FinishAsync(CallRecord call, Activity? span)
    {
        var elapsed = Stopwatch.GetElapsedTime(call.Started);
        span?.SetTag("agentplatform.tool.outcome", call.Outcome);
        if (call.Outcome != Succeeded)
        {
            span?.SetTag("error.type", call.ErrorCode ?? call.Outcome).SetStatus(ActivityStatusCode.Error, call.ErrorCode ?? call.Outcome);
        }

        metrics.Recorded(call.Context, call.MetricName, call.Outcome, elapsed);

        var entry = new AuditEntry(call.Outcome == Refused ? RefusedAction : CalledAction, AuditTargetType, ToolArguments.Cut(call.Name, 100))
        {
            Actor = AuditActor.System,
            Details = Details(call, elapsed),
        };

        // The audit write does not follow the call's cancellation: a cancelled call is recorded too. When the record
        // cannot be written the call fails: no tool result without its audit record.
        await using var scope = TenantWork.Begin(scopeFactory, call.Context.TenantId);
        await scope.ServiceProvider.GetRequiredService<AuditTrail>().SaveChangesAsync(entry, CancellationToken.None);
    }

    private static ToolCallAuditDetails Details(CallRecord call, TimeSpan elapsed)
    {
        // Audit details hold at most 4000 characters; previews shrink until the JSON fits.
        for (var previewChars = 200; ; previewChars /= 2)
        {
            var details = new ToolCallAuditDetails(
                call.Context.TaskId,
                call.Context.SubAgentId,
                ToolArguments.Cut(call.Name, 100),
                call.Outcome,
                Math.Round(elapsed.TotalMilliseconds, 1),
                ToolArguments.Summarize(call.Arguments, previewChars),
                call.OutputBytes,
                call.ErrorCode,
                call.Error is null ? null : ToolArguments.Cut(call.Error, previewChars));
            if (previewChars < 8 || JsonSerializer.Serialize(details, JsonSerializerOptions.Web).Length <= MaxAuditDetailsChars)
            {
                return details;
            }
        }
    }

    private static JsonElement ErrorResult(ToolException exception) =>
        JsonSerializer.SerializeToElement(new ToolError(exception.Message, exception.Code), AIJsonUtilities.DefaultOptions);

    private static long SizeOf(object? result) => result switch
    {
        null => 0,
        JsonElement element => Encoding.UTF8.GetByteCount(element.GetRawText()),
        string text => Encoding.UTF8.GetByteCount(text),
        _ => JsonSerializer.SerializeToUtf8Bytes(result, AIJsonUtilities.DefaultOptions).Length,
    };

    private sealed record CallRecord(ToolCallContext Context, string Name, string MetricName, string Outcome, AIFunctionArguments Arguments, long Started)
    {
        public long? OutputBytes { get; init; }

        public string? ErrorCode { get; init; }

        public string? Error { get; init; }
    }

    /// <summary>
    /// A tool as offered to one sub-agent run. It derives from <see cref="AIFunction"/>, not
    /// <see cref="DelegatingAIFunction"/>, so the tool inside cannot be unwrapped and called past the gateway.
    /// </summary>
    private sealed class GatedFunction(ToolGateway gateway, ToolCallContext context, AIFunction tool) : AIFunction
    {
        public override string Name => tool.Name;

        public override string Description => tool.Description;

        public override JsonElement JsonSchema => tool.JsonSchema;

        public override JsonElement? ReturnJsonSchema => tool.ReturnJsonSchema;

        public override JsonSerializerOptions JsonSerializerOptions => tool.JsonSerializerOptions;

        public override IReadOnlyDictionary<string, object?> AdditionalProperties => tool.AdditionalProperties;

        protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
            await gateway.CallAsync(context, tool.Name, tool, arguments, cancellationToken);
    }
}

/// <summary>
/// The details of a <c>tool.called</c> or <c>tool.refused</c> audit record: never the arguments or the output
/// themselves, only previews of the arguments (see <see cref="ToolArguments"/>) and the output's size.
/// </summary>
public sealed record ToolCallAuditDetails(
    Guid TaskId,
    string SubAgentId,
    string Tool,
    string Outcome,
    double DurationMs,
    IReadOnlyDictionary<string, string?> Arguments,
    long? OutputBytes,
    string? ErrorCode,
    string? Error);
