using System.Net;
using AgentPlatform.Console.Components.Pages.Models;
using AgentPlatform.Console.Models;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;

namespace AgentPlatform.Console.Tests.Models;

public sealed class RouteEditorTests : ConsoleComponentTest
{
    private const string RouteId = "0193a4b0-0000-7000-8000-000000000001";
    private const string ETag = "\"0193a4b0-0000-7000-8000-0000000000e1\"";
    private const string NewETag = "\"0193a4b0-0000-7000-8000-0000000000e2\"";

    private static readonly string Route = $$"""
        {"id":"{{RouteId}}","alias":"chat","strategy":"priority","fallbacks":["default"],"description":null,
         "deployments":[{"id":"0193a4b0-0000-7000-8000-0000000000d1","name":"primary","provider":"openai","endpoint":null,"model":"gpt-4o",
           "credentialId":null,"priority":0,"weight":1,"timeout":"00:01:00","maxRetries":1,"cooldown":"00:00:30","contextWindow":128000,
           "inputPriceMicros":2500000,"outputPriceMicros":10000000,"cachedInputPriceMicros":0,"enabled":true}],
         "createdAt":"2026-11-20T09:00:00Z","updatedAt":"2026-11-20T09:00:00Z","version":"0193a4b0-0000-7000-8000-0000000000e1"}
        """;

    private string currentETag = ETag;

    public RouteEditorTests()
    {
        SignInAs(Roles.TenantAdmin);
        Platform.Respond = request => Task.FromResult(request.Method.Method switch
        {
            "GET" when request.RequestUri!.AbsolutePath == "/api/model-routes" =>
                FakeHttpHandler.Json(HttpStatusCode.OK, $$"""{"items":[{{Route}}],"page":1,"pageSize":200,"totalCount":1}"""),
            "GET" => WithETag(FakeHttpHandler.Json(HttpStatusCode.OK, Route), currentETag),
            "PUT" => WithETag(FakeHttpHandler.Json(HttpStatusCode.OK, Route), NewETag),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
    }

    [Fact]
    public void The_routes_list_shows_each_route_with_its_strategy_fallbacks_and_deployments()
    {
        var view = Context.Render<ModelRoutesView>();

        view.WaitForAssertion(() => Assert.Single(view.FindAll("[data-testid=route]")));
        Assert.Equal("priority", view.Find("[data-testid=route-strategy]").TextContent.Trim());
        Assert.Contains("default", view.Find("[data-testid=route-fallbacks]").TextContent, StringComparison.Ordinal);
        var deployment = view.Find("[data-testid=route-deployment]").TextContent;
        Assert.Contains("gpt-4o", deployment, StringComparison.Ordinal);
        Assert.Contains("60 s", deployment, StringComparison.Ordinal);
        Assert.Contains("2.50 / 10.00", deployment, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_edit_is_refused_in_the_dialog_without_calling_the_platform()
    {
        var (provider, editor) = await OpenEditorAsync();

        provider.Find("[data-testid=route-alias] input, input[data-testid=route-alias]").Input("bad alias");
        provider.Find("[data-testid=route-save]").Click();

        provider.WaitForAssertion(() => Assert.Contains("alias", provider.Find("[data-testid=route-errors]").InnerHtml, StringComparison.Ordinal));
        Assert.DoesNotContain(Platform.Requests, r => r.Method == HttpMethod.Put);
        Assert.False(editor.IsCompleted);
    }

    [Fact]
    public async Task A_save_sends_the_route_with_the_etag_it_was_read_with()
    {
        var (provider, editor) = await OpenEditorAsync();

        provider.Find("[data-testid=route-fallbacks-input] input, input[data-testid=route-fallbacks-input]").Input("default, offline");
        provider.Find("[data-testid=route-save]").Click();

        var result = await editor.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.NotNull(result);
        Assert.False(result.Canceled);
        var put = Assert.Single(Platform.Requests, r => r.Method == HttpMethod.Put);
        Assert.Equal($"/api/model-routes/{RouteId}", put.PathAndQuery);
        Assert.Equal(ETag, put.Headers["If-Match"]);
        Assert.Contains("\"fallbacks\":[\"default\",\"offline\"]", put.Body, StringComparison.Ordinal);
        Assert.Contains("\"timeout\":\"00:01:00\"", put.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task A_save_that_lost_to_another_change_says_so_and_offers_the_latest_version(HttpStatusCode status)
    {
        var respond = Platform.Respond;
        Platform.Respond = request =>
        {
            if (request.Method == HttpMethod.Put)
            {
                // Someone else saved first: the route's version moved on.
                currentETag = NewETag;
                return Task.FromResult(FakeHttpHandler.Json(status, $$"""{"title":"Conflict.","status":{{(int)status}}}""", "application/problem+json"));
            }

            return respond(request);
        };
        var (provider, editor) = await OpenEditorAsync();

        provider.Find("[data-testid=route-save]").Click();

        provider.WaitForAssertion(() => Assert.Contains(ModelRoutesClient.ConflictMessage, provider.Find("[data-testid=route-conflict]").TextContent, StringComparison.Ordinal));
        Assert.True(provider.Find("[data-testid=route-save]").HasAttribute("disabled"));
        Assert.False(editor.IsCompleted);

        provider.Find("[data-testid=route-reload]").Click();
        provider.WaitForAssertion(() => Assert.Empty(provider.FindAll("[data-testid=route-conflict]")));
        Platform.Respond = respond;
        provider.Find("[data-testid=route-save]").Click();
        await editor.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(NewETag, Platform.Requests.Last(r => r.Method == HttpMethod.Put).Headers["If-Match"]);
    }

    [Fact]
    public async Task A_taken_alias_is_the_platforms_message_not_a_lost_update()
    {
        var respond = Platform.Respond;
        Platform.Respond = request => request.Method == HttpMethod.Put
            ? Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.Conflict,
                """{"title":"Conflict.","status":409,"detail":"A model route with alias 'default' exists already."}""", "application/problem+json"))
            : respond(request);
        var (provider, _) = await OpenEditorAsync();

        provider.Find("[data-testid=route-save]").Click();

        provider.WaitForAssertion(() => Assert.Contains("exists already", provider.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
        Assert.Empty(provider.FindAll("[data-testid=route-conflict]"));
    }

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, Task<DialogResult?> Result)> OpenEditorAsync()
    {
        var provider = Context.Render<MudDialogProvider>();
        Context.Render<MudPopoverProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        var parameters = new DialogParameters<RouteEditorDialog> { { d => d.RouteId, Guid.Parse(RouteId) } };
        var reference = await provider.InvokeAsync(() => dialogs.ShowAsync<RouteEditorDialog>("Edit", parameters));
        provider.WaitForAssertion(() => Assert.NotEmpty(provider.FindAll("[data-testid=route-save]:not([disabled])")));
        return (provider, reference.Result);
    }

    private static HttpResponseMessage WithETag(HttpResponseMessage response, string eTag)
    {
        response.Headers.ETag = System.Net.Http.Headers.EntityTagHeaderValue.Parse(eTag);
        return response;
    }
}
