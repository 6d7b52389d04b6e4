using System.Text.Json;
using AgentPlatform.Console.Tasks;

namespace AgentPlatform.Console.Tests;

public sealed class TaskTimelineTests
{
    private const string Plan = """
        {"goal":"Compare offers","summary":"Two steps","subtasks":[
          {"id":1,"description":"Read offer A","domain":"analysis","depends_on":[]},
          {"id":2,"description":"Compare","domain":"analysis","depends_on":[1]}]}
        """;

    [Fact]
    public void Sub_agent_events_fold_into_one_row_per_run_in_plan_order()
    {
        var timeline = new TaskTimeline();

        timeline.Apply(1, "submitted", """{"task_id":"t","trace_id":"x","priority":5}""");
        timeline.Apply(2, "started", """{"run":1}""");
        timeline.Apply(3, "planned", Plan);
        timeline.Apply(4, "sub-agent.started", """{"step":"sub-agent/2","subtask_id":2,"sub_agent_id":"retrieval","description":"Compare"}""");
        timeline.Apply(5, "sub-agent.started", """{"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","description":"Read offer A"}""");
        timeline.Apply(6, "sub-agent.finished", """
            {"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","status":"succeeded","error":null,"citations":0,
             "input_tokens":120,"output_tokens":30,"cost_micros":42,"duration_ms":1500}
            """);

        Assert.Equal(TaskStatusNames.Running, timeline.Status);
        Assert.Equal("Compare offers", timeline.Goal);
        Assert.Equal([1, 2], timeline.Plan.Select(p => p.Id));
        Assert.Equal([1], timeline.Plan[1].DependsOn);
        Assert.Collection(timeline.Runs,
            first =>
            {
                Assert.Equal("sub-agent/1", first.Step);
                Assert.Equal("analysis", first.SubAgentId);
                Assert.Equal("Read offer A", first.Description);
                Assert.Equal(SubAgentRun.Succeeded, first.Status);
                Assert.Equal(1500, first.DurationMs);
                Assert.Equal(150, first.TotalTokens);
                Assert.Equal(42, first.CostMicros);
            },
            second =>
            {
                Assert.Equal("sub-agent/2", second.Step);
                Assert.Equal(SubAgentRun.Running, second.Status);
                Assert.Null(second.DurationMs);
            });
        Assert.Equal(6, timeline.LastEventId);
        Assert.False(timeline.HasEnded);
    }

    [Fact]
    public void An_event_seen_twice_is_applied_once()
    {
        var timeline = new TaskTimeline();
        const string finished = """{"step":"sub-agent/1","subtask_id":1,"sub_agent_id":"analysis","status":"succeeded","input_tokens":10,"output_tokens":5,"duration_ms":9}""";

        Assert.True(timeline.Apply(7, "sub-agent.finished", finished));
        Assert.False(timeline.Apply(7, "sub-agent.finished", finished));

        Assert.Equal(15, Assert.Single(timeline.Runs).TotalTokens);
        Assert.Single(timeline.Events);
    }

    [Fact]
    public void Events_that_arrive_out_of_order_still_describe_the_run()
    {
        var timeline = new TaskTimeline();

        // A late commit: the finish (id 9) is read before its start (id 8).
        timeline.Apply(9, "sub-agent.finished", """{"step":"sub-agent/3","subtask_id":3,"sub_agent_id":"tool-execution","status":"failed","error":"Tool timed out","attempts":3,"duration_ms":30000}""");
        timeline.Apply(8, "sub-agent.started", """{"step":"sub-agent/3","subtask_id":3,"sub_agent_id":"tool-execution","description":"Run the numbers"}""");

        var run = Assert.Single(timeline.Runs);
        Assert.Equal(SubAgentRun.Failed, run.Status);
        Assert.Equal("Run the numbers", run.Description);
        Assert.Equal("Tool timed out", run.Error);
        Assert.Equal(3, run.Attempts);
        Assert.Equal(9, timeline.LastEventId);
        Assert.Equal([8L, 9L], timeline.Events.Select(e => e.Id!.Value));
    }

    [Fact]
    public void The_final_event_ends_the_task_and_nothing_reopens_it()
    {
        var timeline = new TaskTimeline();

        timeline.Apply(1, "started", "{}");
        timeline.Apply(2, "judged", """{"score":0.82,"passed":true,"reason":"Covers both offers"}""");
        timeline.Apply(3, "completed", """{"result_ref_id":null,"judge_score":0.82,"judge_passed":true}""");
        timeline.Apply(4, "resumed", """{"run":2}""");

        Assert.True(timeline.HasEnded);
        Assert.Equal(TaskStatusNames.Completed, timeline.Status);
        Assert.Equal(0.82, timeline.JudgeScore);
        Assert.Equal("Covers both offers", timeline.JudgeReason);
    }

    [Fact]
    public void A_failed_task_carries_its_error()
    {
        var timeline = new TaskTimeline();

        timeline.Apply(5, "failed", """{"code":"sub_agents_failed","message":"Every sub-agent failed"}""");

        Assert.Equal(TaskStatusNames.Failed, timeline.Status);
        Assert.Equal("sub_agents_failed", timeline.ErrorCode);
        Assert.Equal("Every sub-agent failed", timeline.ErrorMessage);
    }

    [Fact]
    public void The_journal_seeds_the_runs_and_later_events_win()
    {
        var timeline = new TaskTimeline();
        var started = new DateTime(2026, 11, 26, 9, 0, 0, DateTimeKind.Utc);

        timeline.Seed(Details(TaskStatusNames.Running,
            new TaskStep("plan", "plan", "succeeded", 1, null, started, started.AddSeconds(1), 1000, 50, 10, 5, null),
            new TaskStep("sub-agent/1", "run-sub-agent", "succeeded", 1, "analysis", started, started.AddSeconds(2), 2000, 100, 20, 7, null)));

        var seeded = Assert.Single(timeline.Runs);
        Assert.Equal(SubAgentRun.Succeeded, seeded.Status);
        Assert.Equal(120, seeded.TotalTokens);
        Assert.Equal(TaskStatusNames.Running, timeline.Status);

        timeline.Apply(10, "cancelled", """{"requested_by":"user-1"}""");
        timeline.Seed(Details(TaskStatusNames.Running));

        Assert.Equal(TaskStatusNames.Cancelled, timeline.Status);
        Assert.True(timeline.CancelRequested);
    }

    [Fact]
    public void Details_that_report_the_end_early_do_not_count_as_the_final_event()
    {
        var timeline = new TaskTimeline();

        timeline.Seed(Details(TaskStatusNames.Completed));

        Assert.True(timeline.HasEnded);
        Assert.False(timeline.FinalEventSeen);
        timeline.Apply(9, "completed", "{}");
        Assert.True(timeline.FinalEventSeen);
    }

    [Fact]
    public void Data_that_is_not_JSON_is_ignored()
    {
        var timeline = new TaskTimeline();

        Assert.False(timeline.Apply(1, "planned", "not json"));
        Assert.Null(timeline.LastEventId);
        Assert.Empty(timeline.Events);
    }

    private static TaskDetails Details(string status, params TaskStep[] steps) => new(
        Guid.NewGuid(), status, "trace", "main", 5, null, new TaskInputSummary("text/plain", 10, null), "user-1",
        DateTime.UtcNow, DateTime.UtcNow, null, null, null, steps, new TaskUsage(0, 0, 0, 0), (JsonElement?)null, null, null, null, null);
}
