using System.Text.RegularExpressions;
using AgentPlatform.ControlPlane.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AgentPlatform.ControlPlane.Tests.Console;

/// <summary>Signing in and out of the admin console in a real browser, through the gateway.</summary>
public sealed partial class ConsoleSessionTests(ConsolePlatformFixture platformFixture, ChromiumFixture chromium)
    : ConsoleBrowserTest(platformFixture, chromium), IClassFixture<ConsolePlatformFixture>, IClassFixture<ChromiumFixture>
{
    private const string SessionCookie = "agentplatform.console";

    private static readonly string[] AdminNavigation = ["nav-dashboard", "nav-tasks", "nav-tasks-new", "nav-audit", "nav-models", "nav-api-keys"];

    [Fact]
    public async Task The_admin_signs_in_on_the_sign_in_page_and_lands_on_the_console_with_its_navigation()
    {
        var page = await NewPageAsync();

        var signInPage = await page.GotoAsync("/signin");
        Assert.Equal(200, signInPage?.Status);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Level = 1 })).ToBeVisibleAsync();
        await SubmitSignInAsync(page, "admin", RunningPlatform.AdminPassword);

        // Home is the platform's status, on the gateway's address (the console's own address never shows).
        await Expect(page).ToHaveURLAsync(Platform.GatewayAddress.ToString());
        await Expect(page.GetByTestId("signed-in-user")).ToContainTextAsync("admin · default");
        var navigation = page.GetByRole(AriaRole.Navigation, new() { Name = "Main navigation" });
        await Expect(navigation).ToBeVisibleAsync();
        foreach (var item in AdminNavigation)
        {
            await Expect(navigation.GetByTestId(item)).ToBeVisibleAsync();
        }

        // The navigation works once the page is interactive.
        await WaitForInteractivityAsync(page);
        await navigation.GetByTestId("nav-tasks").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/tasks$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tasks", Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_clear_error_and_no_session()
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/signin");

        await SubmitSignInAsync(page, "admin", "not-the-password");

        await Expect(page.GetByTestId("signin-error")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signin-error")).ToContainTextAsync(new Regex("user name or password", RegexOptions.IgnoreCase));
        await Expect(page.GetByTestId("signin-password")).ToHaveValueAsync(string.Empty);
        await Expect(page.GetByTestId("signed-in-user")).ToHaveCountAsync(0);
        Assert.DoesNotContain(await page.Context.CookiesAsync(), cookie => cookie.Name == SessionCookie);

        // Still no session: a page of the console sends the browser back to sign in.
        await page.GotoAsync("/tasks");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2Ftasks$"));
    }

    [Fact]
    public async Task An_unauthenticated_visit_goes_to_sign_in_and_back_to_the_page_after_signing_in()
    {
        var page = await NewPageAsync();

        await page.GotoAsync("/tasks?status=completed");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2Ftasks%3Fstatus%3Dcompleted$"));
        await SubmitSignInAsync(page, "admin", RunningPlatform.AdminPassword);

        await Expect(page).ToHaveURLAsync(new Regex("/tasks\\?status=completed$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tasks", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("signed-in-user")).ToContainTextAsync("admin");
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        var page = await NewPageAsync();
        await SignInAsAdminAsync(page);
        var session = Assert.Single(await page.Context.CookiesAsync(), cookie => cookie.Name == SessionCookie);

        await page.GetByTestId("signout").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/signin$"));
        Assert.DoesNotContain(await page.Context.CookiesAsync(), cookie => cookie.Name == SessionCookie);
        await page.GotoAsync("/dashboard");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2Fdashboard$"));

        // The session is over on the server too: its old cookie, sent again, no longer signs anyone in.
        await page.Context.AddCookiesAsync([new Cookie { Name = session.Name, Value = session.Value, Domain = session.Domain, Path = session.Path }]);
        await page.GotoAsync("/dashboard");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl=%2Fdashboard$"));
    }
}
