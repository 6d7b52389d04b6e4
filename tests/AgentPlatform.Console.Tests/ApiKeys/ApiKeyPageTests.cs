using System.Net;
using AgentPlatform.Console.Components.Pages.ApiKeys;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using MudBlazor;

namespace AgentPlatform.Console.Tests.ApiKeys;

public sealed class ApiKeyPageTests : ConsoleComponentTest
{
    private const string Secret = "apk_0Abc_7s3cr3t-only-once";
    private const string KeyId = "0193a4b0-0000-7000-8000-0000000000k1";

    private static readonly string ActiveKey = """
        {"id":"0193a4b0-0000-7000-8000-0000000000a1","name":"billing-sync","prefix":"apk_0Abc","roles":["operator"],"createdBy":"user-1",
         "createdAt":"2026-11-20T09:00:00Z","expiresAt":"2099-01-01T00:00:00Z","revokedAt":null,"lastUsedAt":"2026-11-25T10:00:00Z"}
        """;

    private static readonly string RevokedKey = """
        {"id":"0193a4b0-0000-7000-8000-0000000000a2","name":"old","prefix":"apk_9Xyz","roles":["viewer"],"createdBy":"user-1",
         "createdAt":"2026-10-20T09:00:00Z","expiresAt":"2099-01-01T00:00:00Z","revokedAt":"2026-11-01T00:00:00Z","lastUsedAt":null}
        """;

    public ApiKeyPageTests()
    {
        SignInAs(Roles.TenantAdmin);
        Platform.Respond = request => Task.FromResult(request.Method.Method switch
        {
            "GET" => FakeHttpHandler.Json(HttpStatusCode.OK, $$"""{"items":[{{ActiveKey}},{{RevokedKey}}],"page":1,"pageSize":25,"totalCount":2}"""),
            "POST" => FakeHttpHandler.Json(HttpStatusCode.Created, $$"""
                {"id":"0193a4b0-0000-7000-8000-0000000000a3","name":"ci","prefix":"apk_0Abc","roles":["operator"],
                 "createdAt":"2026-11-26T09:00:00Z","expiresAt":"2027-02-24T09:00:00Z","key":"{{Secret}}"}
                """),
            "DELETE" => new HttpResponseMessage(HttpStatusCode.NoContent),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
    }

    [Fact]
    public void The_list_shows_each_keys_status_and_offers_revoke_only_for_active_keys()
    {
        var page = Context.Render<ApiKeyList>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=api-key-status]").Count));
        Assert.Equal(["active", "revoked"], page.FindAll("[data-testid=api-key-status]").Select(s => s.GetAttribute("data-status")));
        Assert.Single(page.FindAll("[data-testid=api-key-revoke]"));
        Assert.Equal("/api/api-keys?page=1&pageSize=25", Platform.Requests[0].PathAndQuery);
    }

    [Fact]
    public void Revoking_asks_first_and_keeping_the_key_sends_nothing()
    {
        var (provider, page) = RenderPage();

        page.Find("[data-testid=api-key-revoke]").Click();
        provider.WaitForAssertion(() => Assert.Contains("Revoke the key \"billing-sync\"?", provider.Markup, StringComparison.Ordinal));
        ButtonNamed(provider, "Keep it").Click();

        provider.WaitForAssertion(() => Assert.DoesNotContain("Revoke the key", provider.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain(Platform.Requests, r => r.Method == HttpMethod.Delete);
    }

    [Fact]
    public void Revoking_after_confirming_deletes_the_key_and_reloads_the_list()
    {
        var (provider, page) = RenderPage();

        page.Find("[data-testid=api-key-revoke]").Click();
        provider.WaitForAssertion(() => ButtonNamed(provider, "Revoke key"));
        ButtonNamed(provider, "Revoke key").Click();

        page.WaitForAssertion(() => Assert.Equal(2, Platform.Requests.Count(r => r.Method == HttpMethod.Get)));
        var delete = Assert.Single(Platform.Requests, r => r.Method == HttpMethod.Delete);
        Assert.Equal("/api/api-keys/0193a4b0-0000-7000-8000-0000000000a1", delete.PathAndQuery);
    }

    [Fact]
    public void A_new_keys_secret_is_shown_once_and_is_gone_after_closing()
    {
        var (provider, page) = RenderPage();

        page.Find("[data-testid=api-key-create]").Click();
        provider.WaitForAssertion(() => provider.Find("[data-testid=api-key-submit]"));
        provider.Find("input[data-testid=api-key-name-input], [data-testid=api-key-name-input] input").Input("ci");
        provider.Find("[data-testid=api-key-submit]").Click();

        // Nothing without a role.
        provider.WaitForAssertion(() => Assert.Contains("at least one role", provider.Markup, StringComparison.Ordinal));
        Assert.DoesNotContain(Platform.Requests, r => r.Method == HttpMethod.Post);
        SelectRole(provider, Roles.Operator);
        provider.Find("[data-testid=api-key-submit]").Click();

        provider.WaitForAssertion(() => Assert.Contains(Secret, SecretValue(provider), StringComparison.Ordinal));
        Assert.Contains("You will not see it again", provider.Find("[data-testid=api-key-once-note]").TextContent, StringComparison.Ordinal);
        var post = Assert.Single(Platform.Requests, r => r.Method == HttpMethod.Post);
        Assert.Contains("\"roles\":[\"operator\"]", post.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, page.Markup, StringComparison.Ordinal);

        // Its own handler: the context's list of every invocation also grows while MudBlazor's components call JS.
        var clipboard = Context.JSInterop.SetupVoid("navigator.clipboard.writeText", _ => true);
        provider.Find("[data-testid=api-key-copy]").Click();
        Assert.Equal(Secret, clipboard.VerifyInvoke("navigator.clipboard.writeText").Arguments[0]);
        provider.Find("[data-testid=api-key-done]").Click();

        provider.WaitForAssertion(() => Assert.Empty(provider.FindAll("[data-testid=api-key-dialog], [data-testid=api-key-secret]")));
        Assert.DoesNotContain(Secret, provider.Markup, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal(2, Platform.Requests.Count(r => r.Method == HttpMethod.Get)));
        Assert.DoesNotContain(Secret, page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_roles_the_user_may_give_are_offered()
    {
        SignInAs(Roles.Operator);
        var (provider, page) = RenderPage();

        page.Find("[data-testid=api-key-create]").Click();
        provider.WaitForAssertion(() => provider.Find("[data-testid=api-key-submit]"));
        OpenRoles(provider);

        Popovers.WaitForAssertion(() => Assert.NotEmpty(Popovers.FindAll(".mud-list-item")));
        var offered = Popovers.FindAll(".mud-list-item").Select(i => i.TextContent.Trim()).ToList();
        Assert.Equal([Roles.Operator, Roles.Viewer], offered);
    }

    private IRenderedComponent<MudPopoverProvider>? popovers;

    private IRenderedComponent<MudPopoverProvider> Popovers => popovers ?? throw new InvalidOperationException("Render the page first.");

    private (IRenderedComponent<MudDialogProvider> Provider, IRenderedComponent<ApiKeyList> Page) RenderPage()
    {
        var provider = Context.Render<MudDialogProvider>();
        popovers = Context.Render<MudPopoverProvider>();
        var page = Context.Render<ApiKeyList>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=api-key-revoke]")));
        return (provider, page);
    }

    private static void OpenRoles(IRenderedComponent<MudDialogProvider> provider) =>
        provider.Find("[data-testid=api-key-roles] .mud-input-control-input-container, [data-testid=api-key-roles]").MouseDown();

    private void SelectRole(IRenderedComponent<MudDialogProvider> provider, string role)
    {
        OpenRoles(provider);
        Popovers.WaitForAssertion(() => Assert.NotEmpty(Popovers.FindAll(".mud-list-item")));
        Popovers.FindAll(".mud-list-item").Single(i => i.TextContent.Trim() == role).Click();
    }

    private static string SecretValue(IRenderedComponent<MudDialogProvider> provider) =>
        provider.Find("input[data-testid=api-key-secret], [data-testid=api-key-secret] input").GetAttribute("value") ?? "";

    private static AngleSharp.Dom.IElement ButtonNamed(IRenderedComponent<MudDialogProvider> provider, string text) =>
        provider.FindAll("button").Single(b => b.TextContent.Trim() == text);
}
