using System.Globalization;
using System.Reflection;
using System.Text;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// A task's events as Server-Sent Events: <c>id</c> is the event's id (what <c>Last-Event-ID</c> resumes after),
/// <c>event</c> its type, <c>data</c> its JSON. The database is polled for new events; a comment
/// (<c>: keep-alive</c>) goes out when nothing else has for a while; the response ends after the task's final
/// event, or as soon as the client goes away. Written by hand rather than with <c>TypedResults.ServerSentEvents</c>,
/// whose items cannot be comments.
/// </summary>
public sealed class TaskEventsResult(Guid taskId, long afterEventId, TasksApiOptions options) : IResult, IEndpointMetadataProvider
{
    public const string ContentType = "text/event-stream";

    private const int BatchSize = 100;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var db = httpContext.RequestServices.GetRequiredService<AgentPlatformDbContext>();
        var timeProvider = httpContext.RequestServices.GetRequiredService<TimeProvider>();
        var cancellationToken = httpContext.RequestAborted;
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        // Buffering proxies (nginx) would otherwise hold events back.
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var reader = new EventReader(db, taskId, afterEventId, timeProvider);
        try
        {
            await response.StartAsync(cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            var lastWrite = timeProvider.GetUtcNow();
            while (true)
            {
                var now = timeProvider.GetUtcNow();
                var heartbeatDue = now - lastWrite >= options.EventHeartbeatInterval;

                // Checked before reading events: a task's final status commits with its final event, so the read
                // below sees that event. This ends streams that have nothing left to send (a runner that ended the
                // task without a final event, or a client that resumed past it).
                var ended = heartbeatDue && await HasEndedAsync(db, cancellationToken);
                var events = await reader.ReadAsync(cancellationToken);
                if (events.Count > 0)
                {
                    await response.WriteAsync(Format(events), cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = now;
                }

                if ((ended && events.Count < BatchSize) || events.Any(e => TaskEventTypes.IsFinal(e.Type)))
                {
                    return;
                }

                if (heartbeatDue && events.Count == 0)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = now;
                }

                if (events.Count < BatchSize)
                {
                    await Task.Delay(options.EventPollInterval, timeProvider, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; there is nobody left to answer.
        }
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [ContentType]));

    private async Task<bool> HasEndedAsync(AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var status = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).SingleOrDefaultAsync(cancellationToken);
        return status is null || TaskStatuses.IsFinal(status);
    }

    private static string Format(IEnumerable<TaskEvent> events)
    {
        var text = new StringBuilder();
        foreach (var e in events)
        {
            text.Append("id: ").Append(e.Id.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("event: ").Append(e.Type).Append('\n');
            foreach (var line in e.Data.ReplaceLineEndings("\n").Split('\n'))
            {
                text.Append("data: ").Append(line).Append('\n');
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads a task's events after a position, each once. Event ids come from a sequence when the row is inserted
    /// but become visible when its transaction commits, so with concurrent writers (two sub-agents finishing at
    /// once, on PostgreSQL) an event can appear after one with a higher id. Reading strictly after the highest id
    /// sent would lose it; instead the query's floor trails the ids sent by <see cref="LateCommitWindow"/>, and a
    /// late event is sent when it shows up, after the higher ids that overtook it.
    /// </summary>
    private sealed class EventReader(AgentPlatformDbContext db, Guid taskId, long floor, TimeProvider timeProvider)
    {
        private static readonly TimeSpan LateCommitWindow = TimeSpan.FromSeconds(30);

        private readonly Queue<(long Id, DateTimeOffset SentAt)> recent = new();
        private readonly HashSet<long> sent = [];
        private long floor = floor;

        public async Task<List<TaskEvent>> ReadAsync(CancellationToken cancellationToken)
        {
            var now = timeProvider.GetUtcNow();
            while (recent.TryPeek(out var oldest) && now - oldest.SentAt >= LateCommitWindow)
            {
                recent.Dequeue();
                floor = Math.Max(floor, oldest.Id);
            }

            sent.RemoveWhere(id => id <= floor);
            var ids = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId && e.Id > floor)
                .OrderBy(e => e.Id).Select(e => e.Id).ToListAsync(cancellationToken);
            var fresh = ids.Where(id => !sent.Contains(id)).Take(BatchSize).ToList();
            if (fresh.Count == 0)
            {
                return [];
            }

            var events = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId && fresh.Contains(e.Id))
                .OrderBy(e => e.Id).ToListAsync(cancellationToken);
            foreach (var e in events)
            {
                sent.Add(e.Id);
                recent.Enqueue((e.Id, now));
            }

            return events;
        }
    }
}
