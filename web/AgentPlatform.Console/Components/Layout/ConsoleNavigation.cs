using System.Security.Claims;
using AgentPlatform.Domain.Identity;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;

namespace AgentPlatform.Console.Components.Layout;

/// <summary>An entry of the navigation drawer, shown to users who hold <see cref="Permission"/> (null: everyone signed in).</summary>
public sealed record NavItem(string Title, string Href, string Icon, string? Permission, NavLinkMatch Match = NavLinkMatch.Prefix);

/// <summary>
/// The console's pages as the drawer lists them. A new page adds its line here with the permission its page's
/// <c>[Authorize(Policy = …)]</c> names, so the drawer never offers a page that would answer 403.
/// </summary>
public static class ConsoleNavigation
{
    public static IReadOnlyList<NavItem> Items { get; } =
    [
        new("Dashboard", "/dashboard", Icons.Material.Filled.Dashboard, Permissions.TasksRead),
        new("Platform status", "/status", Icons.Material.Filled.MonitorHeart, null),
        new("Tasks", "/tasks", Icons.Material.Filled.Checklist, Permissions.TasksRead, NavLinkMatch.All),
        new("Submit a task", "/tasks/new", Icons.Material.Filled.AddTask, Permissions.TasksWrite, NavLinkMatch.All),
        new("Audit trail", "/audit", Icons.Material.Filled.Policy, Permissions.AuditRead),
        new("Models", "/models", Icons.Material.Filled.Hub, Permissions.ModelsManage),
        new("API keys", "/api-keys", Icons.Material.Filled.Key, Permissions.CredentialsManage),
    ];

    public static IEnumerable<NavItem> VisibleTo(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true
            ? Items.Where(item => item.Permission is null || user.HasPermission(item.Permission))
            : [];
}
