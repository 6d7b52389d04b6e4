namespace AgentPlatform.Domain.Identity;

/// <summary>The platform's roles. A user, OAuth client or API key holds any number of them.</summary>
public static class Roles
{
    /// <summary>Operates the platform itself: tenants, signing keys. Not a tenant role.</summary>
    public const string PlatformAdmin = "platform-admin";

    /// <summary>Administers one tenant: users, credentials, audit, and everything the tenant roles below can do.</summary>
    public const string TenantAdmin = "tenant-admin";

    /// <summary>Builds: sub-agents, prompt / memory / knowledge / skills configuration.</summary>
    public const string Developer = "developer";

    /// <summary>Decides: sub-agent approvals and the human fallback queue.</summary>
    public const string Reviewer = "reviewer";

    /// <summary>Runs: tasks and dead letters.</summary>
    public const string Operator = "operator";

    /// <summary>Reads what the tenant has, changes nothing.</summary>
    public const string Viewer = "viewer";

    public static IReadOnlyList<string> All { get; } = [PlatformAdmin, TenantAdmin, Developer, Reviewer, Operator, Viewer];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
