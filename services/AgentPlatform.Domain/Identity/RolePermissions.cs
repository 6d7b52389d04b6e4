namespace AgentPlatform.Domain.Identity;

/// <summary>Which permissions each role grants, and which roles a caller may hand out.</summary>
public static class RolePermissions
{
    private static readonly string[] ViewerPermissions =
    [
        Permissions.TasksRead, Permissions.SubAgentsRead, Permissions.ConfigurationRead, Permissions.DeadLettersRead,
    ];

    private static readonly Dictionary<string, string[]> ByRole = new(StringComparer.Ordinal)
    {
        [Roles.Viewer] = ViewerPermissions,
        [Roles.Operator] = [.. ViewerPermissions, Permissions.TasksWrite, Permissions.DeadLettersReplay, Permissions.ModelsUse],
        [Roles.Reviewer] = [.. ViewerPermissions, Permissions.ApprovalsDecide, Permissions.HumanQueueWork],
        [Roles.Developer] = [.. ViewerPermissions, Permissions.TasksWrite, Permissions.SubAgentsWrite, Permissions.ConfigurationWrite, Permissions.ModelsUse, Permissions.ModelsDryRun],
        [Roles.TenantAdmin] =
        [
            .. ViewerPermissions, Permissions.TasksWrite, Permissions.DeadLettersReplay, Permissions.SubAgentsWrite,
            Permissions.ConfigurationWrite, Permissions.ApprovalsDecide, Permissions.HumanQueueWork, Permissions.ModelsUse,
            Permissions.ModelsManage, Permissions.ModelsDryRun, Permissions.UsersRead, Permissions.UsersManage, Permissions.CredentialsManage, Permissions.AuditRead,
        ],
        [Roles.PlatformAdmin] = [.. Permissions.All],

        // Calls models for a tenant's tasks, nothing else; never assignable (Roles.IsKnown is false for it).
        [Roles.PlatformService] = [Permissions.ModelsUse],
    };

    public static IReadOnlySet<string> For(IEnumerable<string> roles) =>
        roles.Where(ByRole.ContainsKey).SelectMany(role => ByRole[role]).ToHashSet(StringComparer.Ordinal);

    public static bool Grants(IEnumerable<string> roles, string permission)
    {
        // Checked on every request: no set is built for it.
        foreach (var role in roles)
        {
            if (ByRole.TryGetValue(role, out var permissions) && Array.IndexOf(permissions, permission) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a caller holding <paramref name="callerRoles"/> may give <paramref name="requested"/> to a user,
    /// client or API key: only known roles (so never platform-service), never platform-admin unless the caller is
    /// one, and never a role that grants a permission the caller lacks (no escalation through delegation).
    /// </summary>
    public static bool MayAssign(IEnumerable<string> callerRoles, IEnumerable<string> requested)
    {
        var caller = callerRoles.ToList();
        var callerPermissions = For(caller);
        foreach (var role in requested)
        {
            if (!Roles.IsKnown(role) || (role == Roles.PlatformAdmin && !caller.Contains(Roles.PlatformAdmin)))
            {
                return false;
            }

            if (!ByRole[role].All(callerPermissions.Contains))
            {
                return false;
            }
        }

        return true;
    }
}
