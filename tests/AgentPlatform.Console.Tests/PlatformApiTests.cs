using System.Net;
using AgentPlatform.Console.Platform;
using AgentPlatform.Console.Tasks;
using AgentPlatform.Console.Tests.Support;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Console.Tests;

public sealed class PlatformApiTests : ConsoleComponentTest
{
    [Fact]
    public async Task Requests_carry_the_sessions_access_token_and_read_snake_case_json()
    {
        SignInAs("viewer");
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.OK, """
            {"items":[{"task_id":"0193a4b0-0000-7000-8000-000000000001","status":"running","trace_id":"abc","priority":5,"token_budget":null,
              "input":{"content_type":"text/plain","size":12,"context_ref_id":null},"submitted_by":"user-1",
              "created_at":"2026-11-26T09:00:00Z","started_at":null,"completed_at":null,"cancel_requested_at":null}],
             "page":1,"pageSize":25,"totalCount":1}
            """));

        var page = await Api().GetAsync<PagedResult<TaskSummary>>("/api/tasks?page=1&pageSize=25", TestContext.Current.CancellationToken);

        var request = Assert.Single(Platform.Requests);
        Assert.Equal("Bearer " + AccessToken, request.Headers["Authorization"]);
        Assert.Equal(1, page.TotalCount);
        Assert.Equal("running", Assert.Single(page.Items).Status);
    }

    [Fact]
    public async Task A_problem_response_becomes_an_exception_with_its_title_detail_and_field_errors()
    {
        SignInAs("operator");
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.BadRequest, """
            {"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,
             "errors":{"priority":["The priority is 0 to 9."]},"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}
            """, "application/problem+json"));

        var exception = await Assert.ThrowsAsync<PlatformApiException>(() =>
            Api().PostAsync<SubmitTaskRequest, TaskSummary>("/api/tasks", new SubmitTaskRequest("x", null, 12), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(400, exception.Status);
        Assert.Equal("One or more validation errors occurred.", exception.Title);
        Assert.Equal(["The priority is 0 to 9."], exception.Errors["priority"]);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", exception.TraceId);
        Assert.Equal("""{"input":"x","priority":12}""", Assert.Single(Platform.Requests).Body);
    }

    [Fact]
    public async Task A_server_error_keeps_its_detail_to_itself()
    {
        SignInAs("viewer");
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.InternalServerError,
            """{"title":"An error occurred while processing your request.","status":500,"detail":"NullReferenceException at Foo.Bar"}""", "application/problem+json"));

        var exception = await Assert.ThrowsAsync<PlatformApiException>(() => Api().GetAsync<TaskDetails>("/api/tasks/x", TestContext.Current.CancellationToken));

        Assert.Equal(500, exception.Status);
        Assert.Null(exception.Detail);
    }

    [Fact]
    public async Task An_ended_session_sends_the_user_to_sign_in_and_back()
    {
        SignInAs("viewer");
        await Sessions.RemoveAsync(SessionId);
        var navigation = Context.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/tasks?status=running");

        var exception = await Assert.ThrowsAsync<PlatformApiException>(() => Api().GetAsync<TaskDetails>("/api/tasks/x", TestContext.Current.CancellationToken));

        Assert.Equal(401, exception.Status);
        Assert.Empty(Platform.Requests);
        Assert.Equal("http://localhost/signin?returnUrl=%2Ftasks%3Fstatus%3Drunning", navigation.Uri);
    }

    [Fact]
    public void An_api_error_shows_its_title_detail_and_field_errors()
    {
        var error = new PlatformApiException(409, "Conflict.", "The task has ended (completed); there is nothing to cancel.",
            new Dictionary<string, string[]> { ["input"] = ["The input is required."] });

        var alert = Context.Render<AgentPlatform.Console.Components.Shared.ApiErrorAlert>(p => p.Add(a => a.Error, error));

        Assert.Equal("Conflict.", alert.Find("[data-testid=api-error-title]").TextContent);
        Assert.Equal("The task has ended (completed); there is nothing to cancel.", alert.Find("[data-testid=api-error-detail]").TextContent);
        Assert.Contains("The input is required.", alert.Find("[data-testid=api-error-fields]").TextContent, StringComparison.Ordinal);
    }

    private PlatformApi Api() => Context.Services.GetRequiredService<PlatformApi>();
}
