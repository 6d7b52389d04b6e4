namespace AgentPlatform.Worker.Tools;

/// <summary>
/// Who is calling a tool: the task's tenant, the task and the sub-agent (the Worker labels a running sub-agent
/// <c>id@version</c>; the allowlist of its id applies).
/// </summary>
public sealed record ToolCallContext
{
    public ToolCallContext(string tenantId, Guid taskId, string subAgentId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        ArgumentException.ThrowIfNullOrWhiteSpace(subAgentId);
        TenantId = tenantId;
        TaskId = taskId;
        SubAgentId = subAgentId;
    }

    public string TenantId { get; }

    public Guid TaskId { get; }

    public string SubAgentId { get; }

    /// <summary>The context of the sub-agent run the current <see cref="Models.ModelCallScope"/> belongs to.</summary>
    public static ToolCallContext FromCurrentScope()
    {
        var scope = Models.ModelCallScope.Current
            ?? throw new InvalidOperationException("Tools are called inside a ModelCallScope (it says which tenant, task and sub-agent calls).");
        return new ToolCallContext(scope.TenantId, scope.TaskId,
            scope.SubAgentId ?? throw new InvalidOperationException("Only a sub-agent calls tools: the current ModelCallScope names none."));
    }
}
