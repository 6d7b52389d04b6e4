using System.Security.Claims;
using AgentPlatform.Console.Components.Layout;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;

namespace AgentPlatform.Console.Tests;

public sealed class NavigationTests : ConsoleComponentTest
{
    [Fact]
    public void A_viewer_sees_the_tasks_but_not_the_submit_page()
    {
        SignInAs(Roles.Viewer);

        var links = NavLinks();

        Assert.Contains("/tasks", links);
        Assert.Contains("/status", links);
        Assert.DoesNotContain("/tasks/new", links);
    }

    [Fact]
    public void An_operator_sees_the_submit_page_too()
    {
        SignInAs(Roles.Operator);

        Assert.Contains("/tasks/new", NavLinks());
    }

    [Fact]
    public void A_user_without_a_known_role_sees_only_what_needs_no_permission()
    {
        SignInAs("unknown-role");

        var links = NavLinks();

        Assert.DoesNotContain("/tasks", links);
        Assert.DoesNotContain("/tasks/new", links);
        Assert.Contains("/status", links);
    }

    [Fact]
    public void Every_item_that_needs_a_permission_is_hidden_from_a_user_without_it_and_shown_with_it()
    {
        foreach (var item in ConsoleNavigation.Items.Where(i => i.Permission is not null))
        {
            var holder = User([.. Roles.All.Where(role => RolePermissions.Grants([role], item.Permission!))]);
            var lacking = User([.. Roles.All.Where(role => !RolePermissions.Grants([role], item.Permission!))]);

            Assert.Contains(item, ConsoleNavigation.VisibleTo(holder));
            Assert.DoesNotContain(item, ConsoleNavigation.VisibleTo(lacking));
        }

        Assert.Empty(ConsoleNavigation.VisibleTo(new ClaimsPrincipal(new ClaimsIdentity())));
    }

    [Fact]
    public void A_permission_check_shows_its_content_only_to_holders()
    {
        SignInAs(Roles.Viewer);

        var check = Context.Render<AgentPlatform.Console.Components.Shared.RequirePermission>(p => p
            .Add(c => c.Permission, Permissions.TasksWrite)
            .AddChildContent("<button id='write'>Write</button>")
            .Add(c => c.NotAllowed, "<span id='denied'>No</span>"));

        Assert.Empty(check.FindAll("#write"));
        Assert.Single(check.FindAll("#denied"));
    }

    private List<string> NavLinks() =>
        [.. Context.Render<NavMenu>().FindAll("a").Select(a => a.GetAttribute("href") ?? "")];

    private static ClaimsPrincipal User(string[] roles) =>
        new(new ClaimsIdentity(roles.Select(role => new Claim(PlatformClaims.Roles, role)), "test"));
}
