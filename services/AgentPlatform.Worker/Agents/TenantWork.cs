using AgentPlatform.Infrastructure.Tenancy;

namespace AgentPlatform.Worker.Agents;

/// <summary>Units of work of an activity, acting for the task's tenant (its data, its payloads, nothing else).</summary>
public static class TenantWork
{
    public static AsyncServiceScope Begin(IServiceScopeFactory scopeFactory, string tenantId)
    {
        var scope = scopeFactory.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().SetTenant(tenantId);
        return scope;
    }
}
