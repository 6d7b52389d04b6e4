using System.Net;
using AgentPlatform.Console.Components.Tasks;
using AgentPlatform.Console.Tasks;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Console.Tests;

public sealed class TaskComponentTests : ConsoleComponentTest
{
    private const string SubmittedTask = """
        {"task_id":"0193a4b0-0000-7000-8000-0000000000aa","status":"queued","trace_id":"abc","priority":5,"token_budget":null,
         "input":{"content_type":"text/plain","size":14,"context_ref_id":null},"submitted_by":"user-1",
         "created_at":"2026-11-26T09:00:00Z","started_at":null,"completed_at":null,"cancel_requested_at":null}
        """;

    [Theory]
    [InlineData(Roles.Operator, TaskStatusNames.Running, true)]
    [InlineData(Roles.Developer, TaskStatusNames.Queued, true)]
    [InlineData(Roles.Operator, TaskStatusNames.Completed, false)]
    [InlineData(Roles.Operator, TaskStatusNames.Failed, false)]
    [InlineData(Roles.Operator, TaskStatusNames.Cancelled, false)]
    [InlineData(Roles.Viewer, TaskStatusNames.Running, false)]
    [InlineData(Roles.Reviewer, TaskStatusNames.Queued, false)]
    public void Cancel_is_offered_while_the_task_runs_and_only_to_users_who_may_write_tasks(string role, string status, bool offered)
    {
        SignInAs(role);

        var button = Context.Render<CancelTaskButton>(p => p.Add(c => c.TaskId, Guid.NewGuid()).Add(c => c.Status, status));

        Assert.Equal(offered, button.FindAll("[data-testid=task-cancel]").Count == 1);
    }

    [Fact]
    public void Cancel_is_disabled_once_requested()
    {
        SignInAs(Roles.Operator);

        var button = Context.Render<CancelTaskButton>(p => p
            .Add(c => c.TaskId, Guid.NewGuid()).Add(c => c.Status, TaskStatusNames.Running).Add(c => c.CancelRequested, true));

        var cancel = button.Find("[data-testid=task-cancel]");
        Assert.True(cancel.HasAttribute("disabled"));
        Assert.Contains("Cancellation requested", cancel.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancel_asks_first_and_then_cancels_at_the_platform()
    {
        SignInAs(Roles.Operator);
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.Accepted, SubmittedTask.Replace("\"cancel_requested_at\":null", "\"cancel_requested_at\":\"2026-11-26T09:00:02Z\"", StringComparison.Ordinal)));
        TaskSummary? cancelled = null;
        var dialogs = Context.Render<MudBlazor.MudDialogProvider>();
        var taskId = Guid.NewGuid();
        var button = Context.Render<CancelTaskButton>(p => p
            .Add(c => c.TaskId, taskId).Add(c => c.Status, TaskStatusNames.Running).Add(c => c.Cancelled, summary => cancelled = summary));

        button.Find("[data-testid=task-cancel]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Cancel this task?", dialogs.Markup, StringComparison.Ordinal));
        Assert.Empty(Platform.Requests);
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel task").Click();

        button.WaitForAssertion(() => Assert.NotNull(cancelled));
        var request = Assert.Single(Platform.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal($"/api/tasks/{taskId}/cancel", request.PathAndQuery);
    }

    [Fact]
    public void Keeping_the_task_sends_nothing()
    {
        SignInAs(Roles.Operator);
        var dialogs = Context.Render<MudBlazor.MudDialogProvider>();
        var button = Context.Render<CancelTaskButton>(p => p.Add(c => c.TaskId, Guid.NewGuid()).Add(c => c.Status, TaskStatusNames.Queued));

        button.Find("[data-testid=task-cancel]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Cancel this task?", dialogs.Markup, StringComparison.Ordinal));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Keep it").Click();

        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Cancel this task?", dialogs.Markup, StringComparison.Ordinal));
        Assert.Empty(Platform.Requests);
    }

    [Fact]
    public void The_timeline_shows_a_row_per_sub_agent_run_with_status_duration_and_tokens()
    {
        var timeline = new TaskTimeline();
        timeline.Apply(1, "planned", """{"subtasks":[{"id":1,"description":"Read offer A","depends_on":[]},{"id":2,"description":"Compare","depends_on":[1]}]}""");
        timeline.Apply(2, "sub-agent.started", """{"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis"}""");
        timeline.Apply(3, "sub-agent.finished", """{"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","status":"succeeded","input_tokens":1200,"output_tokens":34,"duration_ms":2500}""");
        timeline.Apply(4, "sub-agent.started", """{"step":"sub-agent/2","subtask_id":2,"sub_agent_id":"retrieval"}""");

        var view = Context.Render<TaskTimelineView>(p => p.Add(c => c.Timeline, timeline));

        var rows = view.FindAll("[data-testid=subagent-run]");
        Assert.Equal(2, rows.Count);
        Assert.Equal("succeeded", rows[0].GetAttribute("data-status"));
        Assert.Contains("Read offer A", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Equal("2.5 s", rows[0].QuerySelector("[data-testid=subagent-run-duration]")!.TextContent);
        Assert.Equal("1,234 tokens", rows[0].QuerySelector("[data-testid=subagent-run-tokens]")!.TextContent);
        Assert.Equal("running", rows[1].GetAttribute("data-status"));
        Assert.Equal("retrieval", rows[1].QuerySelector("[data-testid=subagent-run-agent]")!.TextContent);
    }

    [Fact]
    public void Submitting_without_input_shows_what_is_missing_and_sends_nothing()
    {
        SignInAs(Roles.Operator);
        var form = Context.Render<SubmitTaskFormView>();

        form.Find("form").Submit();

        Assert.Contains(SubmitTaskForm.InputRequired, form.Markup, StringComparison.Ordinal);
        Assert.Empty(Platform.Requests);
    }

    [Fact]
    public void A_token_budget_out_of_range_is_refused_before_sending()
    {
        SignInAs(Roles.Operator);
        var form = Context.Render<SubmitTaskFormView>();

        form.Find("[data-testid=submit-task-input] textarea, textarea").Change("Compare offers");
        form.Find("[data-testid=submit-task-token-budget] input, input[data-testid=submit-task-token-budget]").Change("0");
        form.Find("form").Submit();

        Assert.Contains("The token budget is 1 to 10,000,000 tokens.", form.Markup, StringComparison.Ordinal);
        Assert.Empty(Platform.Requests);
    }

    [Fact]
    public void A_valid_submission_sends_an_idempotency_key_and_opens_the_new_task()
    {
        SignInAs(Roles.Operator);
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.Created, SubmittedTask));
        var form = Context.Render<SubmitTaskFormView>();

        form.Find("textarea").Change("Compare offers");
        form.Find("[data-testid=submit-task-priority] input, input[data-testid=submit-task-priority]").Change("7");
        form.Find("form").Submit();

        form.WaitForAssertion(() => Assert.Single(Platform.Requests));
        var request = Platform.Requests[0];
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/api/tasks", request.PathAndQuery);
        Assert.Equal("""{"input":"Compare offers","priority":7}""", request.Body);
        Assert.Matches("^[0-9a-f]{32}$", request.Headers["Idempotency-Key"]);
        Assert.EndsWith("/tasks/0193a4b0-0000-7000-8000-0000000000aa", Context.Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retried_submission_of_the_same_task_reuses_its_key_and_shows_the_platforms_error()
    {
        SignInAs(Roles.Operator);
        var answers = new Queue<HttpResponseMessage>(
        [
            FakeHttpHandler.Json(HttpStatusCode.BadRequest,
                """{"title":"One or more validation errors occurred.","status":400,"errors":{"sub_agents":["Unknown sub-agent."]}}""", "application/problem+json"),
            FakeHttpHandler.Json(HttpStatusCode.OK, SubmittedTask),
        ]);
        Platform.Respond = _ => Task.FromResult(answers.Dequeue());
        var form = Context.Render<SubmitTaskFormView>();
        form.Find("textarea").Change("Compare offers");

        form.Find("form").Submit();
        form.WaitForAssertion(() => Assert.Contains("Unknown sub-agent.", form.Find("[data-testid=api-error]").TextContent, StringComparison.Ordinal));
        form.Find("form").Submit();
        form.WaitForAssertion(() => Assert.Equal(2, Platform.Requests.Count));

        Assert.Equal(Platform.Requests[0].Headers["Idempotency-Key"], Platform.Requests[1].Headers["Idempotency-Key"]);
    }

    [Fact]
    public void A_file_too_large_is_refused_and_a_text_file_becomes_the_input()
    {
        SignInAs(Roles.Operator);
        ConsoleOptions.MaxInputFileBytes = 1024;
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.Created, SubmittedTask));
        var form = Context.Render<SubmitTaskFormView>();

        form.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(new string('x', 2048), "big.txt"));
        Assert.Contains("a task's input can be at most 1 KiB", form.Find("[data-testid=submit-task-file-error]").TextContent, StringComparison.Ordinal);

        form.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("Summarise the offers", "offers.txt"));
        form.WaitForAssertion(() => Assert.Contains("offers.txt", form.Find("[data-testid=submit-task-file-name]").TextContent, StringComparison.Ordinal));
        Assert.Empty(form.FindAll("[data-testid=submit-task-file-error]"));
        form.Find("form").Submit();

        form.WaitForAssertion(() => Assert.Single(Platform.Requests));
        Assert.Equal("""{"input":"Summarise the offers"}""", Platform.Requests[0].Body);
    }
}
