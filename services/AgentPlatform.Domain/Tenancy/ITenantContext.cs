namespace AgentPlatform.Domain.Tenancy;

/// <summary>
/// Whom the current unit of work acts for. Requests get their tenant from the credential only. Background
/// work either acts for one tenant at a time, or, to move data of many tenants (dispatching the outbox,
/// cleaning up expired payloads), runs in the system scope.
/// </summary>
public interface ITenantContext
{
    /// <summary>The current tenant; <see langword="null"/> when none. Tenant-owned data is then invisible.</summary>
    string? TenantId { get; }

    /// <summary>
    /// True for platform background work: it may write any tenant's rows, stating their tenant explicitly.
    /// It still reads tenant-owned data only through queries that opt out of the tenant filter.
    /// </summary>
    bool IsSystem { get; }
}
