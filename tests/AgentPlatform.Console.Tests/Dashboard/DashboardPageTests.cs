using System.Net;
using AgentPlatform.Console.Dashboard;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using DashboardPage = AgentPlatform.Console.Components.Pages.Dashboard.Dashboard;

namespace AgentPlatform.Console.Tests.Dashboard;

public sealed class DashboardPageTests : ConsoleComponentTest
{
    private const string ModelUsageJson = """
        {"from":"2026-11-20","to":"2026-11-26","groupBy":"model","items":[
          {"key":"small","calls":40,"inputTokens":1000,"outputTokens":500,"cachedInputTokens":0,"costMicros":20000,"errors":0},
          {"key":"large","calls":5,"inputTokens":9000,"outputTokens":3000,"cachedInputTokens":0,"costMicros":3500000,"errors":1}]}
        """;

    private string statistics = Statistics.ThreeHoursJson;

    public DashboardPageTests()
    {
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath switch
        {
            "/api/tasks/stats" => FakeHttpHandler.Json(HttpStatusCode.OK, statistics),
            "/api/model-usage" => FakeHttpHandler.Json(HttpStatusCode.OK, ModelUsageJson),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
    }

    [Fact]
    public void The_default_window_is_seven_days_of_day_buckets_with_its_figures_and_charts()
    {
        SignInAs(Roles.Viewer);

        var page = Context.Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal("14", Kpi(page, "tasks")));
        Assert.Equal("81.8 %", Kpi(page, "success-rate"));
        Assert.Equal("1.23", Kpi(page, "cost"));
        var request = Assert.Single(Platform.Requests);
        Assert.StartsWith("/api/tasks/stats?from=", request.PathAndQuery, StringComparison.Ordinal);
        Assert.EndsWith("&bucket=day", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal("Bearer " + AccessToken, request.Headers["Authorization"]);

        var expected = new DashboardView(Statistics.Parse(Statistics.ThreeHoursJson));
        foreach (var (testId, chart) in new[] { ("chart-volume", expected.Volume), ("chart-latency", expected.Latency), ("chart-tokens", expected.Tokens), ("chart-cost", expected.CostOverTime), ("chart-failing", expected.FailingSubAgents) })
        {
            var card = page.Find($"[data-testid={testId}]");
            Assert.Equal(chart.Summary, card.QuerySelector("[data-testid=chart-figure]")!.GetAttribute("aria-label"));
            Assert.NotNull(card.QuerySelector("[data-testid=chart-figure] svg"));
        }

        Assert.Empty(page.FindAll("[data-testid=dashboard-empty]"));
    }

    [Fact]
    public void Cost_by_model_is_shown_only_to_users_who_manage_models()
    {
        SignInAs(Roles.Viewer);
        var viewerPage = Context.Render<DashboardPage>();
        viewerPage.WaitForAssertion(() => Assert.NotEmpty(viewerPage.FindAll("[data-testid=chart-volume]")));

        Assert.Empty(viewerPage.FindAll("[data-testid=chart-model-cost]"));
        Assert.DoesNotContain(Platform.Requests, r => r.PathAndQuery.StartsWith("/api/model-usage", StringComparison.Ordinal));
    }

    [Fact]
    public void A_tenant_admin_sees_cost_by_model_for_the_window()
    {
        SignInAs(Roles.TenantAdmin);

        var page = Context.Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=chart-model-cost] [data-testid=chart-figure] svg")));
        Assert.StartsWith("Cost by model from Nov 20 to Nov 26 (whole UTC days): large 3.50 in 5 calls;",
            page.Find("[data-testid=chart-model-cost] [data-testid=chart-summary]").TextContent, StringComparison.Ordinal);
        Assert.Contains(Platform.Requests, r => r.PathAndQuery.StartsWith("/api/model-usage?groupBy=model&from=", StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_without_tasks_shows_the_empty_state_instead_of_charts()
    {
        statistics = Statistics.EmptyWeekJson();
        SignInAs(Roles.Viewer);

        var page = Context.Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=dashboard-empty]")));
        Assert.Equal("0", Kpi(page, "tasks"));
        Assert.Equal("—", Kpi(page, "p95"));
        Assert.Empty(page.FindAll("[data-testid=chart-volume]"));
    }

    [Fact]
    public void Choosing_the_last_24_hours_asks_for_hour_buckets()
    {
        SignInAs(Roles.Viewer);
        var page = Context.Render<DashboardPage>();
        page.WaitForAssertion(() => Assert.Equal("14", Kpi(page, "tasks")));

        page.Find("[data-testid=dashboard-window-24h]").Click();

        page.WaitForAssertion(() => Assert.Equal(2, Platform.Requests.Count));
        Assert.EndsWith("&bucket=hour", Platform.Requests[1].PathAndQuery, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal("14", Kpi(page, "tasks")));
    }

    [Fact]
    public void A_failed_request_shows_the_problem_and_no_figures()
    {
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.BadRequest,
            """{"title":"One or more validation errors occurred.","status":400,"errors":{"from":["The window spans at most 92 days."]}}""",
            "application/problem+json"));
        SignInAs(Roles.Viewer);

        var page = Context.Render<DashboardPage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=api-error]")));
        Assert.Contains("The window spans at most 92 days.", page.Find("[data-testid=api-error-fields]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=dashboard-kpis]"));
        Assert.Empty(page.FindAll("[data-testid=dashboard-loading]"));
    }

    [Fact]
    public void Skeletons_show_while_the_figures_load()
    {
        var answer = new TaskCompletionSource<HttpResponseMessage>();
        Platform.Respond = _ => answer.Task;
        SignInAs(Roles.Viewer);

        var page = Context.Render<DashboardPage>();

        Assert.NotEmpty(page.FindAll("[data-testid=dashboard-loading]"));
        answer.SetResult(FakeHttpHandler.Json(HttpStatusCode.OK, statistics));
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=dashboard-loading]")));
        Assert.Equal("14", Kpi(page, "tasks"));
    }

    private static string Kpi(IRenderedComponent<DashboardPage> page, string key) =>
        page.Find($"[data-testid=kpi-{key}] [data-testid=kpi-value]").TextContent.Trim();
}
