using System.Net;
using System.Text;
using AgentPlatform.Console.Components.Pages.Tasks;
using AgentPlatform.Console.Tests.Support;
using AgentPlatform.Domain.Identity;
using Bunit;

namespace AgentPlatform.Console.Tests;

public sealed class TaskDetailPageTests : ConsoleComponentTest
{
    private static readonly Guid TaskId = Guid.Parse("0193a4b0-0000-7000-8000-0000000000aa");

    private const string Events = """
        id: 1
        event: submitted
        data: {"task_id":"0193a4b0-0000-7000-8000-0000000000aa","priority":5}

        id: 2
        event: started
        data: {"run":1}

        : keep-alive

        id: 3
        event: planned
        data: {"goal":"Compare offers","summary":"two","subtasks":[{"id":1,"description":"Read offer A","domain":"analysis","depends_on":[]},{"id":2,"description":"Compare","domain":"analysis","depends_on":[1]}]}

        id: 4
        event: sub-agent.started
        data: {"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","description":"Read offer A"}

        id: 5
        event: sub-agent.finished
        data: {"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","status":"succeeded","input_tokens":100,"output_tokens":20,"duration_ms":1200}

        id: 6
        event: sub-agent.started
        data: {"step":"sub-agent/2","subtask_id":2,"sub_agent_id":"retrieval","description":"Compare"}

        id: 7
        event: sub-agent.finished
        data: {"step":"sub-agent/2","subtask_id":2,"sub_agent_id":"retrieval","status":"failed","error":"No documents","duration_ms":300}

        id: 8
        event: completed
        data: {"judge_score":0.7,"judge_passed":true}


        """;

    [Fact]
    public void The_page_follows_the_event_stream_into_the_timeline_and_reads_the_result_when_the_task_ends()
    {
        SignInAs(Roles.Operator);
        var detailsRead = 0;
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath switch
        {
            var path when path.EndsWith("/events", StringComparison.Ordinal) => new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(Events.Replace("\r\n", "\n", StringComparison.Ordinal), Encoding.UTF8, "text/event-stream"),
            },
            _ => FakeHttpHandler.Json(HttpStatusCode.OK, Details(Interlocked.Increment(ref detailsRead) == 1 ? "running" : "completed")),
        });

        var page = Context.Render<TaskDetail>(p => p.Add(c => c.TaskId, TaskId));

        page.WaitForAssertion(() => Assert.Equal("completed", page.Find("[data-testid=task-status]").GetAttribute("data-status")));
        page.WaitForAssertion(() => Assert.Equal("The answer", page.Find("[data-testid=task-result]").TextContent));
        var runs = page.FindAll("[data-testid=subagent-run]");
        Assert.Equal(["succeeded", "failed"], runs.Select(r => r.GetAttribute("data-status")));
        Assert.Contains("No documents", runs[1].TextContent, StringComparison.Ordinal);
        Assert.Equal(2, page.FindAll("[data-testid=task-plan] li").Count);
        Assert.Empty(page.FindAll("[data-testid=task-cancel]"));
        Assert.Empty(page.FindAll("[data-testid=task-live]"));
        var stream = Assert.Single(Platform.Requests, r => r.PathAndQuery.EndsWith("/events", StringComparison.Ordinal));
        Assert.Equal("Bearer " + AccessToken, stream.Headers["Authorization"]);
        Assert.False(stream.Headers.ContainsKey("Last-Event-ID"));
    }

    [Fact]
    public void A_running_task_offers_cancel_and_links_its_trace_when_a_template_is_configured()
    {
        SignInAs(Roles.Operator);
        ConsoleOptions.TraceUrlTemplate = "http://dashboard.test/traces/detail/{traceId}";
        Platform.Respond = request => Task.FromResult(request.RequestUri!.AbsolutePath.EndsWith("/events", StringComparison.Ordinal)
            ? new HttpResponseMessage(HttpStatusCode.NoContent)
            : FakeHttpHandler.Json(HttpStatusCode.OK, Details("running")));

        var page = Context.Render<TaskDetail>(p => p.Add(c => c.TaskId, TaskId));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=task-cancel]")));
        Assert.Equal("http://dashboard.test/traces/detail/4bf92f3577b34da6a3ce929d0e0e4736", page.Find("[data-testid=task-trace] a").GetAttribute("href"));
    }

    [Fact]
    public void A_task_of_another_tenant_shows_the_platforms_answer_and_no_data()
    {
        SignInAs(Roles.Viewer);
        Platform.Respond = _ => Task.FromResult(FakeHttpHandler.Json(HttpStatusCode.NotFound,
            """{"title":"The task was not found.","status":404}""", "application/problem+json"));

        var page = Context.Render<TaskDetail>(p => p.Add(c => c.TaskId, TaskId));

        page.WaitForAssertion(() => Assert.Equal("The task was not found.", page.Find("[data-testid=api-error-title]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=task-overview]"));
        Assert.DoesNotContain(Platform.Requests, r => r.PathAndQuery.EndsWith("/events", StringComparison.Ordinal));
    }

    private static string Details(string status) => $$"""
        {"task_id":"{{TaskId}}","status":"{{status}}","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","main_agent_id":"main","priority":5,
         "token_budget":null,"sub_agents":[],"input":{"content_type":"text/plain","size":14,"context_ref_id":null},"submitted_by":"user-1",
         "created_at":"2026-11-26T09:00:00Z","updated_at":"2026-11-26T09:00:05Z","started_at":"2026-11-26T09:00:01Z",
         "completed_at":null,"duration_ms":null,"cancel_requested_at":null,"steps":[],
         "usage":{"input_tokens":100,"output_tokens":20,"total_tokens":120,"cost_micros":3},
         "result":{{(status == "completed" ? "\"The answer\"" : "null")}},"result_ref_id":null,"result_size":null,"error":null,"judge":null }
        """;
}
