namespace AgentPlatform.Domain.Tenancy;

/// <summary>Thrown when a unit of work touches tenant-owned data without a tenant, or another tenant's data.</summary>
public sealed class TenantAccessException(string message) : InvalidOperationException(message);
