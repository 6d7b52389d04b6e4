using System.Globalization;

namespace AgentPlatform.Worker.Models;

/// <summary>
/// Who a model call is for, and what the calls made under it cost. An activity opens one around its model calls;
/// <see cref="ModelGatewayHandler"/> reads it to authenticate as the tenant (charged to the task's user) and to set
/// the correlation headers, and adds each call's cost to it.
/// </summary>
public sealed class ModelCallScope : IDisposable
{
    private static readonly AsyncLocal<ModelCallScope?> CurrentScope = new();

    private readonly ModelCallScope? previous;
    private long costMicros;

    private ModelCallScope(string tenantId, string? chargedUserId, Guid taskId, string mainAgentId, string? subAgentId)
    {
        TenantId = tenantId;
        ChargedUserId = chargedUserId;
        TaskId = taskId;
        MainAgentId = mainAgentId;
        SubAgentId = subAgentId;
        previous = CurrentScope.Value;
        CurrentScope.Value = this;
    }

    public static ModelCallScope? Current => CurrentScope.Value;

    public string TenantId { get; }

    public string? ChargedUserId { get; }

    public Guid TaskId { get; }

    public string MainAgentId { get; }

    public string? SubAgentId { get; }

    /// <summary>What the calls under this scope cost, as the model gateway reported it.</summary>
    public long CostMicros => Interlocked.Read(ref costMicros);

    public static ModelCallScope Begin(string tenantId, string? chargedUserId, Guid taskId, string mainAgentId, string? subAgentId = null) =>
        new(tenantId, chargedUserId, taskId, mainAgentId, subAgentId);

    public void AddCost(string? reported)
    {
        if (long.TryParse(reported, NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
        {
            Interlocked.Add(ref costMicros, micros);
        }
    }

    public void Dispose() => CurrentScope.Value = previous;
}
