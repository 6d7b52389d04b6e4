namespace AgentPlatform.Domain.Tenancy;

/// <summary>Marks data that belongs to one tenant. Stores filter it by the current tenant.</summary>
public interface ITenantOwned
{
    string TenantId { get; set; }
}
