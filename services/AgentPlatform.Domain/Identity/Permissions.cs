namespace AgentPlatform.Domain.Identity;

/// <summary>
/// What an endpoint requires. Endpoints name permissions, never roles, so what a role may do is decided in
/// one place (<see cref="RolePermissions"/>). The names are also the authorization policy names.
/// </summary>
public static class Permissions
{
    public const string TenantsManage = "tenants:manage";
    public const string SigningKeysManage = "signing-keys:manage";

    public const string UsersRead = "users:read";
    public const string UsersManage = "users:manage";
    public const string CredentialsManage = "credentials:manage";
    public const string AuditRead = "audit:read";

    public const string TasksRead = "tasks:read";
    public const string TasksWrite = "tasks:write";
    public const string DeadLettersRead = "dead-letters:read";
    public const string DeadLettersReplay = "dead-letters:replay";

    public const string SubAgentsRead = "subagents:read";
    public const string SubAgentsWrite = "subagents:write";
    public const string ConfigurationRead = "configuration:read";
    public const string ConfigurationWrite = "configuration:write";
    public const string ApprovalsDecide = "approvals:decide";
    public const string HumanQueueWork = "human-queue:work";

    public const string ModelsUse = "models:use";
    public const string ModelsManage = "models:manage";

    /// <summary>Use the model gateway's dry-run hooks: mocked responses and forced fallbacks.</summary>
    public const string ModelsDryRun = "models:dry-run";

    public static IReadOnlyList<string> All { get; } =
    [
        TenantsManage, SigningKeysManage, UsersRead, UsersManage, CredentialsManage, AuditRead, TasksRead, TasksWrite,
        DeadLettersRead, DeadLettersReplay, SubAgentsRead, SubAgentsWrite, ConfigurationRead, ConfigurationWrite,
        ApprovalsDecide, HumanQueueWork, ModelsUse, ModelsManage, ModelsDryRun,
    ];
}
