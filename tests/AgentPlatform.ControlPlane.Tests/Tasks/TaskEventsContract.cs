using System.Globalization;
using System.Net;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Tests.Tasks;

/// <summary>
/// <c>GET /api/tasks/{id}/events</c> through the gateway, against SQLite and PostgreSQL alike. The test plays the
/// runner: it records events with <see cref="TaskEventLog"/> while a client is connected.
/// </summary>
public abstract class TaskEventsContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : PlatformFixture
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Events_arrive_in_order_as_they_are_recorded_and_the_stream_ends_after_the_final_one()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var task = await admin.SubmitTaskAsync(new { input = "Stream my progress.", priority = 6 });
        var taskId = task.TaskId();

        using var response = await OpenAsync(admin, taskId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));

        var submitted = await events.ReadEventAsync(Patience);
        Assert.Equal(TaskEventTypes.Submitted, submitted.Event);
        var submittedId = await platform.WithDatabaseAsync(db => db.TaskEvents.Where(e => e.TaskId == taskId).Select(e => e.Id).SingleAsync(Ct));
        Assert.Equal(submittedId.ToString(CultureInfo.InvariantCulture), submitted.Id);
        using (var data = JsonDocument.Parse(submitted.Data!))
        {
            Assert.Equal(taskId, data.RootElement.GetProperty("task_id").GetGuid());
            Assert.Equal(task.GetProperty("trace_id").GetString(), data.RootElement.GetProperty("trace_id").GetString());
            Assert.Equal(6, data.RootElement.GetProperty("priority").GetInt32());
        }

        // Recorded while the client listens, one by one and then several at once.
        await platform.SetStatusAsync(taskId, TaskStatuses.Running);
        var started = await platform.AppendEventAsync(taskId, TaskEventTypes.Started);
        var record = await events.ReadEventAsync(Patience);
        Assert.Equal((started.ToString(CultureInfo.InvariantCulture), TaskEventTypes.Started), (record.Id, record.Event));

        var planned = await platform.AppendEventAsync(taskId, TaskEventTypes.Planned, data: new { subtasks = 2 });
        var first = await platform.AppendEventAsync(taskId, TaskEventTypes.SubAgentFinished, "sub-agent/0", new { sub_agent_id = "retrieval@1" });
        var second = await platform.AppendEventAsync(taskId, TaskEventTypes.SubAgentFinished, "sub-agent/1", new { sub_agent_id = "analysis@1" });
        var received = new List<SseRecord>();
        for (var i = 0; i < 3; i++)
        {
            received.Add(await events.ReadEventAsync(Patience));
        }

        Assert.Equal([planned, first, second], received.Select(r => long.Parse(r.Id!, CultureInfo.InvariantCulture)));
        Assert.Equal(2, JsonDocument.Parse(received[0].Data!).RootElement.GetProperty("subtasks").GetInt32());
        Assert.Equal("analysis@1", JsonDocument.Parse(received[2].Data!).RootElement.GetProperty("sub_agent_id").GetString());

        var completed = await platform.AppendEventAsync(taskId, TaskEventTypes.Completed);
        var final = await events.ReadEventAsync(Patience);
        Assert.Equal((completed.ToString(CultureInfo.InvariantCulture), TaskEventTypes.Completed), (final.Id, final.Event));
        Assert.Null(await events.ReadAsync(Patience));
    }

    [Fact]
    public async Task Last_event_id_resumes_after_that_event_and_a_finished_stream_answers_204()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Resume me." })).TaskId();
        var started = await platform.AppendEventAsync(taskId, TaskEventTypes.Started);
        var planned = await platform.AppendEventAsync(taskId, TaskEventTypes.Planned);

        using (var response = await OpenAsync(admin, taskId, lastEventIdHeader: started))
        {
            using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
            var next = await events.ReadEventAsync(Patience);
            Assert.Equal((planned.ToString(CultureInfo.InvariantCulture), TaskEventTypes.Planned), (next.Id, next.Event));
        }

        // Browsers' EventSource cannot set headers on a first connection; the query parameter stands in.
        var aggregated = await platform.AppendEventAsync(taskId, TaskEventTypes.Aggregated);
        using (var response = await OpenAsync(admin, taskId, lastEventIdQuery: planned))
        {
            using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
            var next = await events.ReadEventAsync(Patience);
            Assert.Equal((aggregated.ToString(CultureInfo.InvariantCulture), TaskEventTypes.Aggregated), (next.Id, next.Event));
        }

        await platform.SetStatusAsync(taskId, TaskStatuses.Failed);
        var failed = await platform.AppendEventAsync(taskId, TaskEventTypes.Failed);
        using (var response = await OpenAsync(admin, taskId, lastEventIdHeader: aggregated))
        {
            using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
            Assert.Equal(TaskEventTypes.Failed, (await events.ReadEventAsync(Patience)).Event);
            Assert.Null(await events.ReadAsync(Patience));
        }

        // The client saw the final event: nothing will follow, and 204 tells an EventSource to stop reconnecting.
        using (var response = await OpenAsync(admin, taskId, lastEventIdHeader: failed))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        using (var response = await OpenAsync(admin, taskId))
        {
            using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
            Assert.Equal(
                [TaskEventTypes.Submitted, TaskEventTypes.Started, TaskEventTypes.Planned, TaskEventTypes.Aggregated, TaskEventTypes.Failed],
                (await events.ReadToEndAsync(Patience)).Select(r => r.Event));
        }
    }

    [Fact]
    public async Task A_quiet_stream_sends_keep_alive_comments_and_ends_when_the_task_is_cancelled()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Nothing happens for a while." })).TaskId();

        using var response = await OpenAsync(admin, taskId);
        using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
        Assert.Equal(TaskEventTypes.Submitted, (await events.ReadEventAsync(Patience)).Event);
        var quiet = await events.ReadAsync(Patience);
        Assert.NotNull(quiet);
        Assert.Equal("keep-alive", quiet.Comment);
        Assert.Null(quiet.Event);

        using (var cancelled = await admin.CancelAsync(taskId))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        }

        Assert.Equal(TaskEventTypes.Cancelled, (await events.ReadEventAsync(Patience)).Event);
        Assert.Null(await events.ReadAsync(Patience));
    }

    [Fact]
    public async Task A_stream_that_resumed_past_the_end_still_ends_and_a_bad_last_event_id_is_refused()
    {
        var platform = await fixture.GetAsync();
        using var admin = platform.CreateClient(await platform.SignInAsAdminAsync());
        var taskId = (await admin.SubmitTaskAsync(new { input = "Ended without a final event." })).TaskId();
        var submitted = await platform.WithDatabaseAsync(db => db.TaskEvents.Where(e => e.TaskId == taskId).Select(e => e.Id).SingleAsync(Ct));

        // A runner that ended the task without recording a final event: the stream notices at its next keep-alive.
        using (var response = await OpenAsync(admin, taskId, lastEventIdHeader: submitted))
        {
            using var events = new SseReader(await response.Content.ReadAsStreamAsync(Ct));
            await platform.SetStatusAsync(taskId, TaskStatuses.Completed);
            Assert.All(await events.ReadToEndAsync(Patience), record => Assert.Null(record.Event));
        }

        foreach (var bad in new[] { "-1", "abc", "1.5" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/tasks/{taskId}/events");
            request.Headers.TryAddWithoutValidation("Last-Event-ID", bad);
            using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{bad}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    private static async Task<HttpResponseMessage> OpenAsync(HttpClient client, Guid taskId, long? lastEventIdHeader = null, long? lastEventIdQuery = null)
    {
        var path = $"/api/tasks/{taskId}/events" + (lastEventIdQuery is { } query ? $"?last_event_id={query}" : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventIdHeader is { } header)
        {
            request.Headers.Add("Last-Event-ID", header.ToString(CultureInfo.InvariantCulture));
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
    }
}

public sealed class SqliteTaskEventsTests(SqliteTasksFixture fixture) : TaskEventsContract<SqliteTasksFixture>(fixture);

[Trait("Category", "Infrastructure")]
public sealed class PostgresTaskEventsTests(PostgresTasksFixture fixture) : TaskEventsContract<PostgresTasksFixture>(fixture);
