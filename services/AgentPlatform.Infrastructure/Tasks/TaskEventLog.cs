using System.Text.Json;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Infrastructure.Messaging;
using AgentPlatform.Infrastructure.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace AgentPlatform.Infrastructure.Tasks;

/// <summary>
/// Records a task's progress events: a row for the task's event stream (SSE) and the same event on the bus
/// (<see cref="EventTopics.Tasks"/>, type <c>task.&lt;type&gt;.v1</c>) through the outbox, both in the caller's
/// unit of work so they commit with the state change they report. An event whose key the task has already
/// recorded is skipped: a step that runs again after a crash does not report twice.
/// </summary>
public static class TaskEventLog
{
    /// <summary>Event data larger than this is refused: events carry references, never payloads.</summary>
    public const int MaxDataBytes = 16 * 1024;

    /// <summary>Adds the event unless the task has one with <paramref name="key"/> already; true when added.</summary>
    public static async Task<bool> AppendAsync<TData>(
        AgentPlatformDbContext db, AgentTask task, string type, string key, TData data, CancellationToken cancellationToken)
    {
        if (db.TaskEvents.Local.Any(e => e.TaskId == task.Id && e.Key == key)
            || await db.TaskEvents.AnyAsync(e => e.TaskId == task.Id && e.Key == key, cancellationToken))
        {
            return false;
        }

        var json = JsonSerializer.Serialize(data, JsonSerializerOptions.Web);
        if (json.Length > MaxDataBytes)
        {
            throw new InvalidOperationException($"The '{type}' event of task {task.Id} has {json.Length} bytes of data; events carry at most {MaxDataBytes} (references, not payloads).");
        }

        var now = db.GetService<TimeProvider>().GetUtcNow().UtcDateTime;
        db.TaskEvents.Add(new TaskEvent { TaskId = task.Id, TenantId = task.TenantId, Type = type, Key = key, Data = json, OccurredAt = now });
        db.AddEvent(new EventEnvelope
        {
            Id = Guid.CreateVersion7(),
            Topic = EventTopics.Tasks,
            Type = $"task.{type}.v1",
            TenantId = task.TenantId,
            Key = task.Id.ToString(),
            OccurredAt = now,
            Payload = JsonSerializer.Serialize(new TaskEventPayload(task.Id, task.TraceId, task.MainAgentId, type, JsonDocument.Parse(json).RootElement), JsonSerializerOptions.Web),
            Headers = task.TraceParent is { } traceParent
                ? new Dictionary<string, string> { [EventHeaders.TraceParent] = traceParent }
                : new Dictionary<string, string>(),
        });
        return true;
    }

    /// <summary>The bus payload of a task event: the correlation ids and the event's data.</summary>
    public sealed record TaskEventPayload(Guid TaskId, string TraceId, string MainAgentId, string Type, JsonElement Data);
}

/// <summary>The types of a task's progress events, in the order a run produces them.</summary>
public static class TaskEventTypes
{
    public const string Submitted = "submitted";
    public const string Started = "started";

    /// <summary>A runner took the task over after another stopped, and fast-forwards through its journal.</summary>
    public const string Resumed = "resumed";
    public const string Planned = "planned";
    public const string Routed = "routed";
    public const string SubAgentStarted = "sub-agent.started";
    public const string SubAgentFinished = "sub-agent.finished";
    public const string Aggregated = "aggregated";
    public const string Judged = "judged";
    public const string CancelRequested = "cancel-requested";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string type) => type is Completed or Failed or Cancelled;
}
