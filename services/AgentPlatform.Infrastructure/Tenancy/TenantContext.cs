using AgentPlatform.Domain.Tenancy;

namespace AgentPlatform.Infrastructure.Tenancy;

/// <summary>The scoped, settable <see cref="ITenantContext"/>: set once per request or background work item.</summary>
public sealed class TenantContext : ITenantContext
{
    public string? TenantId { get; private set; }

    public bool IsSystem { get; private set; }

    /// <summary>Binds the scope to a tenant. A scope acts for one tenant only; switching is a bug.</summary>
    public void SetTenant(string tenantId)
    {
        Domain.Tenancy.TenantId.Require(tenantId);
        if (TenantId is not null && TenantId != tenantId)
        {
            throw new TenantAccessException($"This scope already acts for tenant '{TenantId}'; it cannot switch to '{tenantId}'.");
        }

        TenantId = tenantId;
    }

    /// <summary>Marks the scope as platform background work; see <see cref="ITenantContext.IsSystem"/>.</summary>
    public void EnterSystemScope() => IsSystem = true;
}
