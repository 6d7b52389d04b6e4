using System.Net;
using AgentPlatform.Console.Components.Pages.Models;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using MudBlazor;

namespace AgentPlatform.Console.Tests.Models;

public sealed class ModelGovernanceViewTests : ConsoleComponentTest
{
    private const string TenantBudget = "0193a4b0-0000-7000-8000-0000000000b1";
    private const string KeyBudget = "0193a4b0-0000-7000-8000-0000000000b2";
    private const string BrokenBudget = "0193a4b0-0000-7000-8000-0000000000b3";
    private const string ApiKeyId = "0193a4b0-0000-7000-8000-0000000000a1";

    public ModelGovernanceViewTests()
    {
        SignInAs(Roles.TenantAdmin);
        Platform.Respond = request => Task.FromResult(Answer(request));
    }

    [Fact]
    public void Each_budget_shows_its_spending_as_a_bar_that_is_red_once_exhausted()
    {
        var view = Context.Render<ModelBudgetsView>();

        view.WaitForAssertion(() => Assert.Equal(3, view.FindAll("[data-testid=budget-status]").Count));
        var bars = view.FindAll("[data-testid=budget-progress]");
        Assert.Equal(["success", "error"], bars.Select(b => b.GetAttribute("data-color")));
        Assert.Equal(["false", "true"], bars.Select(b => b.GetAttribute("data-exhausted")));
        Assert.Contains("exhausted", bars[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("mud-progress-linear-color-error", bars[1].InnerHtml, StringComparison.Ordinal);
        Assert.Single(view.FindAll("[data-testid=budget-status-error]"));
    }

    [Fact]
    public void Creating_a_budget_sends_its_limit_in_micro_units()
    {
        var provider = Context.Render<MudDialogProvider>();
        Context.Render<MudPopoverProvider>();
        var view = Context.Render<ModelBudgetsView>();
        view.WaitForAssertion(() => view.Find("[data-testid=budgets-table]"));

        view.Find("[data-testid=budget-create]").Click();
        provider.WaitForAssertion(() => provider.Find("[data-testid=budget-save]"));
        provider.Find("input[data-testid=budget-limit], [data-testid=budget-limit] input").Change("12.5");
        provider.Find("[data-testid=budget-save]").Click();

        provider.WaitForAssertion(() => Assert.Single(Platform.Requests, r => r.Method == HttpMethod.Post));
        Assert.Equal("""{"scope":"tenant","limitMicros":12500000,"period":"monthly"}""", Platform.Requests.Single(r => r.Method == HttpMethod.Post).Body);
    }

    [Fact]
    public void Usage_is_read_for_the_window_and_broken_down_by_model_and_by_named_key()
    {
        var before = DateOnly.FromDateTime(DateTime.UtcNow);
        var view = Context.Render<ModelUsageView>();

        view.WaitForAssertion(() => view.Find("[data-testid=usage-by-key]"));
        var today = DateOnly.FromDateTime(DateTime.UtcNow) is var after && Platform.Requests.Any(r => r.PathAndQuery.EndsWith($"to={after:yyyy-MM-dd}", StringComparison.Ordinal)) ? after : before;
        var usage = Platform.Requests.Where(r => r.PathAndQuery.StartsWith("/api/model-usage", StringComparison.Ordinal)).Select(r => r.PathAndQuery).Order().ToList();
        var window = $"from={today.AddDays(-29):yyyy-MM-dd}&to={today:yyyy-MM-dd}";
        Assert.Equal(
        [
            $"/api/model-usage?groupBy=apiKey&{window}",
            $"/api/model-usage?groupBy=day&{window}",
            $"/api/model-usage?groupBy=model&{window}",
        ], usage);
        view.Find("[data-testid=usage-chart]");
        var models = view.Find("[data-testid=usage-by-model]").QuerySelectorAll("[data-testid=usage-row]");
        Assert.Equal(["gpt-4o", "offline"], models.Select(r => r.GetAttribute("data-key")));
        Assert.Equal("3.00", view.Find("[data-testid=usage-by-model] [data-testid=usage-total-cost]").TextContent);
        var keys = view.Find("[data-testid=usage-by-key]").TextContent;
        Assert.Contains("billing-sync (apk_0Abc…)", keys, StringComparison.Ordinal);
        Assert.Contains("No key", keys, StringComparison.Ordinal);
    }

    [Fact]
    public void A_window_without_calls_says_so_instead_of_an_empty_chart()
    {
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath == "/api/model-usage"
            ? FakeHttpHandler.Json(HttpStatusCode.OK, """{"from":"2026-10-28","to":"2026-11-26","groupBy":"day","items":[]}""")
            : Answer(request));

        var view = Context.Render<ModelUsageView>();

        view.WaitForAssertion(() => view.Find("[data-testid=usage-empty]"));
        Assert.Empty(view.FindAll("[data-testid=usage-chart]"));
    }

    [Fact]
    public void A_failed_report_shows_the_platforms_problem()
    {
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath == "/api/model-usage"
            ? FakeHttpHandler.Json(HttpStatusCode.BadRequest, """{"title":"Invalid.","status":400,"errors":{"to":["A report covers at most 366 days."]}}""", "application/problem+json")
            : Answer(request));

        var view = Context.Render<ModelUsageView>();

        view.WaitForAssertion(() => Assert.Contains("366 days", view.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void The_models_page_holds_the_routes_usage_and_budgets()
    {
        Context.Render<MudPopoverProvider>();
        var page = Context.Render<ModelsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=budget-status]").Count));
        page.WaitForAssertion(() => page.Find("[data-testid=usage-chart]"));
        var paths = Platform.Requests.Select(r => r.PathAndQuery).ToList();
        Assert.Contains("/api/model-routes?page=1&pageSize=200", paths);
        Assert.Contains(paths, p => p.StartsWith("/api/model-usage?groupBy=day", StringComparison.Ordinal));
        Assert.Contains("/api/model-budgets?page=1&pageSize=200", paths);
        Assert.Equal(["Routes", "Usage", "Budgets"], page.FindAll(".mud-tab").Select(t => t.TextContent.Trim()));
    }

    private static HttpResponseMessage Answer(HttpRequestMessage request)
    {
        var path = request.RequestUri!.AbsolutePath;
        var query = request.RequestUri.Query;
        return (request.Method.Method, path) switch
        {
            ("GET", "/api/model-budgets") => Ok($$"""
                {"items":[
                  {"id":"{{TenantBudget}}","scope":"tenant","subjectId":"acme","limitMicros":100000000,"period":"monthly","createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"},
                  {"id":"{{KeyBudget}}","scope":"api-key","subjectId":"{{ApiKeyId}}","limitMicros":5000000,"period":"daily","createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"},
                  {"id":"{{BrokenBudget}}","scope":"user","subjectId":"user-1","limitMicros":5000000,"period":"daily","createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}],
                 "page":1,"pageSize":200,"totalCount":3}
                """),
            ("GET", $"/api/model-budgets/{TenantBudget}/status") => Ok("""
                {"limitMicros":100000000,"spentMicros":25000000,"remainingMicros":75000000,"periodStart":"2026-11-01T00:00:00Z","resetsAt":"2026-12-01T00:00:00Z"}
                """),
            ("GET", $"/api/model-budgets/{KeyBudget}/status") => Ok("""
                {"limitMicros":5000000,"spentMicros":5000000,"remainingMicros":0,"periodStart":"2026-11-26T00:00:00Z","resetsAt":"2026-11-27T00:00:00Z"}
                """),
            ("GET", $"/api/model-budgets/{BrokenBudget}/status") => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
            ("POST", "/api/model-budgets") => FakeHttpHandler.Json(HttpStatusCode.Created, $$"""
                {"id":"{{TenantBudget}}","scope":"tenant","subjectId":"acme","limitMicros":12500000,"period":"monthly","createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}
                """),
            ("GET", "/api/api-keys") => Ok($$"""
                {"items":[{"id":"{{ApiKeyId}}","name":"billing-sync","prefix":"apk_0Abc","roles":["operator"],"createdBy":"user-1",
                  "createdAt":"2026-11-20T09:00:00Z","expiresAt":"2099-01-01T00:00:00Z","revokedAt":null,"lastUsedAt":null}],"page":1,"pageSize":200,"totalCount":1}
                """),
            ("GET", "/api/model-usage") when query.Contains("groupBy=day", StringComparison.Ordinal) => Ok("""
                {"from":"2026-10-28","to":"2026-11-26","groupBy":"day","items":[{"key":"2026-11-25","calls":4,"inputTokens":1000,"outputTokens":500,"cachedInputTokens":0,"costMicros":3000000,"errors":0}]}
                """),
            ("GET", "/api/model-usage") when query.Contains("groupBy=model", StringComparison.Ordinal) => Ok("""
                {"from":"2026-10-28","to":"2026-11-26","groupBy":"model","items":[
                  {"key":"offline","calls":2,"inputTokens":100,"outputTokens":50,"cachedInputTokens":0,"costMicros":0,"errors":0},
                  {"key":"gpt-4o","calls":2,"inputTokens":900,"outputTokens":450,"cachedInputTokens":0,"costMicros":3000000,"errors":0}]}
                """),
            ("GET", "/api/model-usage") => Ok($$"""
                {"from":"2026-10-28","to":"2026-11-26","groupBy":"apiKey","items":[
                  {"key":null,"calls":1,"inputTokens":100,"outputTokens":50,"cachedInputTokens":0,"costMicros":0,"errors":0},
                  {"key":"{{ApiKeyId}}","calls":3,"inputTokens":900,"outputTokens":450,"cachedInputTokens":0,"costMicros":3000000,"errors":1}]}
                """),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        };
    }

    private static HttpResponseMessage Ok(string json) => FakeHttpHandler.Json(HttpStatusCode.OK, json);
}
