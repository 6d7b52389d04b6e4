namespace AgentPlatform.Domain.Identity;

/// <summary>
/// The platform's roles. A user, OAuth client or API key holds any number of those in <see cref="All"/>;
/// <see cref="PlatformService"/> is not among them.
/// </summary>
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

    /// <summary>
    /// A trusted platform service (the worker) acting in one tenant. Only the control plane's service-client grant
    /// puts it in a token: it is in no list of assignable roles, so nobody can give it to a user, client or key.
    /// </summary>
    public const string PlatformService = "platform-service";

    /// <summary>The roles users, OAuth clients and API keys may hold.</summary>
    public static IReadOnlyList<string> All { get; } = [PlatformAdmin, TenantAdmin, Developer, Reviewer, Operator, Viewer];

    /// <summary>Whether <paramref name="role"/> is one a user, OAuth client or API key may hold.</summary>
    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
