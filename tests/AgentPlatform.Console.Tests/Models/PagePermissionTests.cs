using System.Reflection;
using System.Security.Claims;
using AgentPlatform.Console.Components.Layout;
using AgentPlatform.Console.Components.Pages.ApiKeys;
using AgentPlatform.Console.Components.Pages.Models;
using AgentPlatform.Domain.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;

namespace AgentPlatform.Console.Tests.Models;

/// <summary>
/// The APIs behind these pages need one permission for reading and writing alike (models:manage, credentials:manage),
/// so the page is the unit of authorization: without the permission neither the page nor its link is offered.
/// </summary>
public sealed class PagePermissionTests
{
    [Theory]
    [InlineData(typeof(ModelsPage), "/models", Permissions.ModelsManage)]
    [InlineData(typeof(ApiKeyList), "/api-keys", Permissions.CredentialsManage)]
    public void The_page_requires_the_permission_its_api_requires_and_so_does_its_link(Type page, string href, string permission)
    {
        Assert.Equal(href, page.GetCustomAttribute<RouteAttribute>()!.Template);
        Assert.Contains(permission, page.GetCustomAttributes<AuthorizeAttribute>().Select(a => a.Policy));
        Assert.Equal(permission, Assert.Single(ConsoleNavigation.Items, i => i.Href == href).Permission);
    }

    [Theory]
    [InlineData(Roles.TenantAdmin, true)]
    [InlineData(Roles.PlatformAdmin, true)]
    [InlineData(Roles.Developer, false)]
    [InlineData(Roles.Operator, false)]
    [InlineData(Roles.Viewer, false)]
    public void Only_tenant_and_platform_admins_are_offered_the_models_and_api_keys_pages(string role, bool offered)
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(PlatformClaims.Roles, role)], "test"));

        var links = ConsoleNavigation.VisibleTo(user).Select(i => i.Href).ToList();

        Assert.Equal(offered, links.Contains("/models"));
        Assert.Equal(offered, links.Contains("/api-keys"));
    }
}
