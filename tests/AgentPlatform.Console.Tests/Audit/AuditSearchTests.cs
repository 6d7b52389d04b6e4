using AgentPlatform.Console.Audit;

namespace AgentPlatform.Console.Tests.Audit;

public sealed class AuditSearchTests
{
    [Fact]
    public void An_empty_search_asks_only_for_the_page()
    {
        var search = new AuditSearch { Action = "  ", ActorId = "" };

        Assert.True(search.IsEmpty);
        Assert.Equal("/api/audit?page=1&pageSize=25", search.ToPath(1, 25));
    }

    [Fact]
    public void Every_filled_field_becomes_its_filter_trimmed_and_escaped()
    {
        var search = new AuditSearch
        {
            Action = " task.submitted ",
            ActorId = "user 1&admin",
            TargetType = "task",
            TargetId = "0199",
            TraceId = "abc123",
        };

        Assert.Equal(
            "/api/audit?page=3&pageSize=50&action=task.submitted&actorId=user%201%26admin&targetType=task&targetId=0199&traceId=abc123",
            search.ToPath(3, 50));
    }

    [Fact]
    public void The_day_range_covers_whole_utc_days_with_the_last_one_included()
    {
        var search = new AuditSearch
        {
            FromDay = new DateTime(2026, 11, 1, 15, 30, 0, DateTimeKind.Local),
            ToDay = new DateTime(2026, 11, 30),
        };

        Assert.Equal("/api/audit?page=1&pageSize=25&from=2026-11-01T00%3A00%3A00Z&to=2026-12-01T00%3A00%3A00Z", search.ToPath(1, 25));
        Assert.Null(search.Problem);
    }

    [Fact]
    public void A_range_that_ends_before_it_starts_cannot_run()
    {
        var search = new AuditSearch { FromDay = new DateTime(2026, 11, 2), ToDay = new DateTime(2026, 11, 1) };

        Assert.Equal("The end day is before the start day.", search.Problem);
        Assert.Null(new AuditSearch { FromDay = new DateTime(2026, 11, 2), ToDay = new DateTime(2026, 11, 2) }.Problem);
    }

    [Fact]
    public void A_copy_does_not_follow_later_edits()
    {
        var form = new AuditSearch { Action = "task.submitted" };

        var applied = form.Copy();
        form.Action = "task.cancelled";

        Assert.Equal("task.submitted", applied.Action);
    }
}
