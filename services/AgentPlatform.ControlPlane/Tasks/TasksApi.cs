using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.ControlPlane.Identity;
using AgentPlatform.Domain.ClaimCheck;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.ClaimCheck;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Infrastructure.Tasks;
using AgentPlatform.Orchestration;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// Tasks: submit one (idempotently, its input inline or by claim check), read it with its run journal, list,
/// cancel, and follow its progress events as Server-Sent Events. The Worker runs what is queued here.
/// </summary>
public static class TasksApi
{
    /// <summary>Set to <c>true</c> on a submission answered with the task an earlier request with the same key created.</summary>
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>The query parameter that stands in for <see cref="LastEventIdHeader"/> where a client cannot set headers.</summary>
    public const string LastEventIdParameter = "last_event_id";

    private static readonly string[] Statuses =
        [TaskStatuses.Queued, TaskStatuses.Running, TaskStatuses.Completed, TaskStatuses.Failed, TaskStatuses.Cancelled];

    public static IHostApplicationBuilder AddTasksApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TasksApiOptions>()
            .BindConfiguration(TasksApiOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder endpoints)
    {
        // Ids are plain route values so a malformed one answers 400 rather than falling through to 404.
        var tasks = endpoints.MapGroup("/api/tasks").WithTags("Tasks");
        tasks.MapPost("/", SubmitAsync).RequirePermission(Permissions.TasksWrite).Accepts<SubmitTaskRequest>("application/json");
        tasks.MapGet("/", ListAsync).RequirePermission(Permissions.TasksRead);
        tasks.MapTaskStatistics();
        tasks.MapGet("/{id}", GetAsync).RequirePermission(Permissions.TasksRead);
        tasks.MapPost("/{id}/cancel", CancelAsync).RequirePermission(Permissions.TasksWrite);
        tasks.MapGet("/{id}/events", StreamEventsAsync).RequirePermission(Permissions.TasksRead);
        return endpoints;
    }

    /// <summary>
    /// Queues a task. With an <c>Idempotency-Key</c> (per tenant), the same key and the same body answer 200 with
    /// the task the first request created; the same key with a different body is a 409.
    /// </summary>
    public static async Task<Results<Created<TaskSummary>, Ok<TaskSummary>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        HttpContext context,
        AgentPlatformDbContext db,
        IPayloadStore payloads,
        AuditTrail auditTrail,
        IOptions<ClaimCheckOptions> claimCheck,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type.",
                detail: "Send the task as JSON (Content-Type: application/json).");
        }

        string? idempotencyKey = null;
        if (request.Headers.TryGetValue(TaskSubmission.IdempotencyKeyHeader, out var keys))
        {
            var keyError = keys.Count == 1
                ? TaskSubmission.ValidateIdempotencyKey(keys[0] ?? "")
                : $"Send one {TaskSubmission.IdempotencyKeyHeader}.";
            if (keyError is not null)
            {
                return Problems.Invalid(TaskSubmission.IdempotencyKeyHeader, keyError);
            }

            idempotencyKey = keys[0];
        }

        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await request.Body.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }

        var (submission, errors) = TaskSubmission.Parse(body);
        if (submission is null)
        {
            return TypedResults.ValidationProblem(errors!);
        }

        if (idempotencyKey is not null && await FindByIdempotencyKeyAsync(db, idempotencyKey, cancellationToken) is { } earlier)
        {
            return Replay(context, earlier, submission.RequestHash);
        }

        string contentType;
        string? inline = null;
        string? referenceId;
        long size;
        if (submission.ContextRefId is { } contextRefId)
        {
            var reference = await payloads.GetAsync(contextRefId, cancellationToken);
            if (reference is null)
            {
                return Problems.Invalid("context_ref_id", "There is no claim-check payload with this id in your tenant, or it has expired.");
            }

            if (InputContentTypeOf(reference.ContentType) is not { } referencedType)
            {
                return Problems.Invalid("context_ref_id", $"The payload is '{reference.ContentType}'; a task's input is text or JSON.");
            }

            (contentType, referenceId, size) = (referencedType, reference.Id, reference.Size);
        }
        else
        {
            var input = submission.Input!;
            (contentType, size) = (submission.InputContentType!, input.Length);
            if (size > claimCheck.Value.InlineThresholdBytes)
            {
                // Before the task is added: the payload store saves the unit of work it shares with this request.
                using var content = new MemoryStream(input, writable: false);
                referenceId = (await payloads.PutAsync(content, contentType, cancellationToken: cancellationToken)).Id;
            }
            else
            {
                (inline, referenceId) = (Encoding.UTF8.GetString(input), null);
            }
        }

        var now = Now(timeProvider);
        var activity = Activity.Current;
        var task = new AgentTask
        {
            Id = Guid.CreateVersion7(now),
            TenantId = context.User.GetTenantId()!,
            Status = TaskStatuses.Queued,
            InputContentType = contentType,
            Input = inline,
            InputRefId = referenceId,
            InputSize = size,
            SubAgentHints = [.. submission.SubAgents],
            TokenBudget = submission.TokenBudget,
            Priority = submission.Priority,
            IdempotencyKey = idempotencyKey,
            RequestHash = submission.RequestHash,
            SubmittedBy = context.User.GetSubject()!,
            ChargedUserId = context.User.GetChargedUserId(),
            TraceId = (activity?.TraceId ?? ActivityTraceId.CreateRandom()).ToHexString(),
            TraceParent = activity is { IdFormat: ActivityIdFormat.W3C } ? activity.Id : null,
            MainAgentId = MainAgent.Id,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Tasks.Add(task);
        await TaskEventLog.AppendAsync(
            db, task, TaskEventTypes.Submitted, TaskEventTypes.Submitted, new TaskSubmittedData(task.Id, task.TraceId, task.Priority), cancellationToken);
        try
        {
            await auditTrail.SaveChangesAsync(new AuditEntry("task.submitted", "task", task.Id.ToString()) { After = Audited(task) }, cancellationToken);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // A concurrent request with the same key inserted its task between the check and the insert (the unique index caught it).
            db.ChangeTracker.Clear();
            if (await FindByIdempotencyKeyAsync(db, idempotencyKey, cancellationToken) is { } winner)
            {
                return Replay(context, winner, submission.RequestHash);
            }

            throw;
        }

        return TypedResults.Created($"/api/tasks/{task.Id}", TaskSummary.From(task));
    }

    /// <summary>Newest first.</summary>
    public static async Task<Results<Ok<PagedResult<TaskSummary>>, ValidationProblem>> ListAsync(
        [AsParameters] PageQuery page, [AsParameters] TaskQuery query, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var tasks = db.Tasks.AsNoTracking();
        var statuses = (query.Status ?? [])
            .SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (statuses.Count > 0)
        {
            if (statuses.Any(s => !Statuses.Contains(s, StringComparer.Ordinal)))
            {
                return Problems.Invalid("status", $"The status is one of {string.Join(", ", Statuses)}.");
            }

            tasks = tasks.Where(t => statuses.Contains(t.Status));
        }

        if (query.CreatedAfter >= query.CreatedBefore)
        {
            return Problems.Invalid("created_before", "'created_before' must be later than 'created_after'.");
        }

        if (query.CreatedAfter is { } createdAfter)
        {
            var from = createdAfter.UtcDateTime;
            tasks = tasks.Where(t => t.CreatedAt >= from);
        }

        if (query.CreatedBefore is { } createdBefore)
        {
            var to = createdBefore.UtcDateTime;
            tasks = tasks.Where(t => t.CreatedAt < to);
        }

        if (!string.IsNullOrEmpty(query.SubmittedBy))
        {
            if (query.SubmittedBy.Any(char.IsControl))
            {
                return Problems.Invalid("submitted_by", "A subject has no control characters.");
            }

            tasks = tasks.Where(t => t.SubmittedBy == query.SubmittedBy);
        }

        return TypedResults.Ok(await tasks.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .ToPagedResultAsync(page, TaskSummary.From, cancellationToken));
    }

    public static async Task<Results<Ok<TaskDetails>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string id, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return InvalidId();
        }

        var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound("The task");
        }

        var steps = await db.TaskSteps.AsNoTracking().Where(s => s.TaskId == taskId)
            .OrderBy(s => s.StartedAt).ThenBy(s => s.Key).ToListAsync(cancellationToken);
        return TypedResults.Ok(TaskDetails.From(task, steps));
    }

    /// <summary>
    /// A queued task is cancelled at once; a running one gets its cancellation requested, which its runner acts on
    /// at its next step (202 either way, and again while the request stands). A task that has ended is a 409.
    /// </summary>
    public static async Task<Results<Accepted<TaskSummary>, ValidationProblem, ProblemHttpResult>> CancelAsync(
        string id, HttpContext context, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return InvalidId();
        }

        var requestedBy = context.User.GetSubject()!;
        return await OptimisticRetry.RunAsync<Results<Accepted<TaskSummary>, ValidationProblem, ProblemHttpResult>>(
            db, () => CancelOnceAsync(taskId, requestedBy, db, auditTrail, timeProvider, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The task's events as <c>text/event-stream</c>, from the start or after <c>Last-Event-ID</c> (or
    /// <c>?last_event_id=</c>); the stream ends after the task's final event. 204 when the task has ended and the
    /// client has seen its last event, which also tells a browser's EventSource to stop reconnecting.
    /// </summary>
    public static async Task<Results<TaskEventsResult, NoContent, ValidationProblem, ProblemHttpResult>> StreamEventsAsync(
        string id, HttpContext context, AgentPlatformDbContext db, IOptions<TasksApiOptions> options, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var taskId))
        {
            return InvalidId();
        }

        var lastEventId = context.Request.Headers.TryGetValue(LastEventIdHeader, out var header)
            ? header.ToString()
            : context.Request.Query[LastEventIdParameter].ToString();
        long after = 0;
        if (lastEventId.Length > 0 && !long.TryParse(lastEventId, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            return Problems.Invalid(LastEventIdHeader, "The last event id is the id of an event this stream sent.");
        }

        var status = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).SingleOrDefaultAsync(cancellationToken);
        if (status is null)
        {
            return Problems.NotFound("The task");
        }

        if (TaskStatuses.IsFinal(status) && !await db.TaskEvents.AnyAsync(e => e.TaskId == taskId && e.Id > after, cancellationToken))
        {
            return TypedResults.NoContent();
        }

        return new TaskEventsResult(taskId, after, options.Value);
    }

    // Statuses only move forward (queued → running → an end), so a lost race shows on the next read and the loop
    // ends after at most three of them.
    private static async Task<Results<Accepted<TaskSummary>, ValidationProblem, ProblemHttpResult>> CancelOnceAsync(
        Guid taskId, string requestedBy, AgentPlatformDbContext db, AuditTrail auditTrail, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        while (true)
        {
            var task = await db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.Id == taskId, cancellationToken);
            if (task is null)
            {
                return Problems.NotFound("The task");
            }

            if (TaskStatuses.IsFinal(task.Status))
            {
                return Problems.Conflict($"The task has ended ({task.Status}); there is nothing to cancel.");
            }

            if (task.CancelRequestedAt is not null)
            {
                return Accepted(task);
            }

            var before = Audited(task);
            var now = Now(timeProvider);
            string action;
            if (task.Status == TaskStatuses.Queued)
            {
                // No runner has it yet, so it ends here; the status condition loses against a runner claiming it now.
                var cancelled = await db.Tasks.Where(t => t.Id == taskId && t.Status == TaskStatuses.Queued && t.CancelRequestedAt == null)
                    .ExecuteUpdateAsync(set => set
                        .SetProperty(t => t.Status, TaskStatuses.Cancelled)
                        .SetProperty(t => t.CancelRequestedAt, now)
                        .SetProperty(t => t.CompletedAt, now)
                        .SetProperty(t => t.UpdatedAt, now), cancellationToken);
                if (cancelled == 0)
                {
                    continue;
                }

                (task.Status, task.CancelRequestedAt, task.CompletedAt, task.UpdatedAt) = (TaskStatuses.Cancelled, now, now, now);
                await TaskEventLog.AppendAsync(
                    db, task, TaskEventTypes.Cancelled, TaskEventTypes.Cancelled, new TaskCancellationData(task.Id, requestedBy), cancellationToken);
                action = "task.cancelled";
            }
            else
            {
                // Its runner cancels it at its next step; the condition keeps a runner that ends the task now from being overwritten.
                var status = task.Status;
                var requested = await db.Tasks.Where(t => t.Id == taskId && t.Status == status && t.CancelRequestedAt == null)
                    .ExecuteUpdateAsync(set => set
                        .SetProperty(t => t.CancelRequestedAt, now)
                        .SetProperty(t => t.UpdatedAt, now), cancellationToken);
                if (requested == 0)
                {
                    continue;
                }

                (task.CancelRequestedAt, task.UpdatedAt) = (now, now);
                await TaskEventLog.AppendAsync(
                    db, task, TaskEventTypes.CancelRequested, TaskEventTypes.CancelRequested, new TaskCancellationData(task.Id, requestedBy), cancellationToken);
                action = "task.cancel-requested";
            }

            await auditTrail.SaveChangesAsync(new AuditEntry(action, "task", task.Id.ToString()) { Before = before, After = Audited(task) }, cancellationToken);
            return Accepted(task);
        }
    }

    // PostgreSQL keeps microseconds: what a write returns must equal what a later read returns.
    private static DateTime Now(TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMicrosecond), DateTimeKind.Utc);
    }

    private static Task<AgentTask?> FindByIdempotencyKeyAsync(AgentPlatformDbContext db, string idempotencyKey, CancellationToken cancellationToken) =>
        db.Tasks.AsNoTracking().SingleOrDefaultAsync(t => t.IdempotencyKey == idempotencyKey, cancellationToken);

    private static Results<Created<TaskSummary>, Ok<TaskSummary>, ValidationProblem, ProblemHttpResult> Replay(
        HttpContext context, AgentTask earlier, string requestHash)
    {
        if (!string.Equals(earlier.RequestHash, requestHash, StringComparison.Ordinal))
        {
            return Problems.Conflict(
                $"This {TaskSubmission.IdempotencyKeyHeader} was used for a different request. Retry with the same body, or use a new key for a new task.");
        }

        context.Response.Headers[IdempotentReplayedHeader] = "true";
        return TypedResults.Ok(TaskSummary.From(earlier));
    }

    private static Accepted<TaskSummary> Accepted(AgentTask task) => TypedResults.Accepted($"/api/tasks/{task.Id}", TaskSummary.From(task));

    private static ValidationProblem InvalidId() => Problems.Invalid("id", "A task id is a GUID (the task_id a submission returned).");


    /// <summary>A referenced payload's type as a task input type: JSON, text, or null for anything else.</summary>
    private static string? InputContentTypeOf(string payloadContentType)
    {
        if (!MediaTypeHeaderValue.TryParse(payloadContentType, out var mediaType))
        {
            return null;
        }

        if (mediaType.MediaType.Equals(InlineContent.Json, StringComparison.OrdinalIgnoreCase) || mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            return InlineContent.Json;
        }

        return mediaType.Type.Equals("text", StringComparison.OrdinalIgnoreCase) ? InlineContent.Text : null;
    }

    // What the audit digests cover: what was asked and the task's lifecycle state, never the input itself.
    private static object Audited(AgentTask task) => new
    {
        task.Status,
        task.Priority,
        task.TokenBudget,
        SubAgents = task.SubAgentHints,
        task.InputContentType,
        task.InputSize,
        task.InputRefId,
        task.MainAgentId,
        task.CancelRequestedAt,
    };
}
