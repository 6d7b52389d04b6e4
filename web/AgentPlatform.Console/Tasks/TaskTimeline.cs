using System.Globalization;
using System.Text.Json;

namespace AgentPlatform.Console.Tasks;

/// <summary>One sub-agent run of a task: a row of the detail page's timeline.</summary>
public sealed class SubAgentRun(string step)
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <summary>The run's step key in the task's journal (<c>sub-agent/2</c>).</summary>
    public string Step { get; } = step;

    public int? SubtaskId { get; internal set; }

    public string? SubAgentId { get; internal set; }

    public string? Description { get; internal set; }

    public string Status { get; internal set; } = Running;

    public long? DurationMs { get; internal set; }

    public long InputTokens { get; internal set; }

    public long OutputTokens { get; internal set; }

    public long CostMicros { get; internal set; }

    public int? Attempts { get; internal set; }

    public string? Error { get; internal set; }

    public long TotalTokens => InputTokens + OutputTokens;
}

public sealed record PlannedSubtask(int Id, string Description, string? Domain, IReadOnlyList<int> DependsOn);

/// <summary>An event as the timeline lists it.</summary>
public sealed record TimelineEntry(long? Id, string Type, string? Summary);

/// <summary>
/// What the detail page shows of a task's run, folded from its journal (<see cref="Seed"/>, from
/// <c>GET /api/tasks/{id}</c>) and its progress events (<see cref="Apply"/>, from the SSE stream, in any order and
/// each at most once): status, plan, one row per sub-agent run, judgement and error. Plain C#, no UI.
/// </summary>
public sealed class TaskTimeline
{
    public const string SubAgentStepPrefix = "sub-agent/";

    private readonly Dictionary<string, SubAgentRun> runs = new(StringComparer.Ordinal);
    private readonly HashSet<long> seen = [];
    private readonly List<TimelineEntry> entries = [];

    public string? Status { get; private set; }

    public bool CancelRequested { get; private set; }

    /// <summary>The highest event id applied: where a dropped stream resumes (<c>Last-Event-ID</c>).</summary>
    public long? LastEventId { get; private set; }

    public string? Goal { get; private set; }

    public string? PlanSummary { get; private set; }

    public IReadOnlyList<PlannedSubtask> Plan { get; private set; } = [];

    /// <summary>Sub-agent runs in plan order (subtask id), then by step.</summary>
    public IReadOnlyList<SubAgentRun> Runs =>
        [.. runs.Values.OrderBy(r => r.SubtaskId ?? int.MaxValue).ThenBy(r => r.Step, StringComparer.Ordinal)];

    public IReadOnlyList<TimelineEntry> Events => entries;

    public double? JudgeScore { get; private set; }

    public bool? JudgePassed { get; private set; }

    public string? JudgeReason { get; private set; }

    public string? ErrorCode { get; private set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>True once the task has ended, by its final event or by the details it was seeded with.</summary>
    public bool HasEnded => TaskStatusNames.IsFinal(Status);

    /// <summary>
    /// True once the final event itself (completed, failed, cancelled) has been applied: the event stream has nothing
    /// more to say. Details can report the end before the stream has delivered the events leading to it.
    /// </summary>
    public bool FinalEventSeen { get; private set; }

    /// <summary>Starts from what the task's details say; events applied later win over it.</summary>
    public void Seed(TaskDetails task)
    {
        if (!HasEnded)
        {
            Status = task.Status;
        }

        CancelRequested |= task.CancelRequestedAt is not null;
        JudgeScore ??= task.Judge?.Score;
        JudgePassed ??= task.Judge?.Passed;
        ErrorCode ??= task.Error?.Code;
        ErrorMessage ??= task.Error?.Message;
        foreach (var step in task.Steps.Where(s => s.Key.StartsWith(SubAgentStepPrefix, StringComparison.Ordinal)))
        {
            var run = RunFor(step.Key);
            run.SubAgentId ??= step.SubAgentId;
            run.Attempts ??= step.Attempts;
            if (run.Status == SubAgentRun.Running)
            {
                run.Status = step.Status == SubAgentRun.Failed ? SubAgentRun.Failed : SubAgentRun.Succeeded;
                run.DurationMs = step.DurationMs;
                run.InputTokens = step.InputTokens;
                run.OutputTokens = step.OutputTokens;
                run.CostMicros = step.CostMicros;
                run.Error = step.Error;
            }
        }
    }

    /// <summary>
    /// Folds one event in; false when it was seen already (a resumed stream may repeat one) or is not JSON.
    /// Unknown event types are listed but change nothing else.
    /// </summary>
    public bool Apply(long? id, string type, string data)
    {
        if (id is { } eventId && !seen.Add(eventId))
        {
            return false;
        }

        JsonElement json;
        try
        {
            using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(data) ? "{}" : data);
            json = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return false;
        }

        if (id is { } applied && applied > (LastEventId ?? 0))
        {
            LastEventId = applied;
        }

        FinalEventSeen |= type is TaskStatusNames.Completed or TaskStatusNames.Failed or TaskStatusNames.Cancelled;
        var summary = Fold(type, json);
        entries.Add(new TimelineEntry(id, type, summary));
        entries.Sort((a, b) => (a.Id ?? long.MaxValue).CompareTo(b.Id ?? long.MaxValue));
        return true;
    }

    private string? Fold(string type, JsonElement data)
    {
        switch (type)
        {
            case "submitted":
                Status ??= TaskStatusNames.Queued;
                return null;
            case "started" or "resumed":
                SetStatus(TaskStatusNames.Running);
                return Int(data, "run") is { } runNumber ? $"Run {runNumber}" : null;
            case "planned":
                Goal = String(data, "goal");
                PlanSummary = String(data, "summary");
                Plan = data.TryGetProperty("subtasks", out var subtasks) && subtasks.ValueKind == JsonValueKind.Array
                    ? [.. subtasks.EnumerateArray().Select(s => new PlannedSubtask(
                        Int(s, "id") ?? 0,
                        String(s, "description") ?? "",
                        String(s, "domain"),
                        s.TryGetProperty("depends_on", out var dependsOn) && dependsOn.ValueKind == JsonValueKind.Array
                            ? [.. dependsOn.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Number).Select(d => d.GetInt32())]
                            : []))]
                    : [];
                foreach (var subtask in Plan)
                {
                    if (runs.TryGetValue(SubAgentStepPrefix + subtask.Id.ToString(CultureInfo.InvariantCulture), out var planned))
                    {
                        planned.Description ??= subtask.Description;
                    }
                }

                return $"{Plan.Count} subtask(s)";
            case "sub-agent.started":
            {
                var run = RunFrom(data);
                if (run is null)
                {
                    return null;
                }

                run.SubAgentId ??= String(data, "sub_agent_id");
                run.Description ??= String(data, "description");
                return $"{run.SubAgentId} started";
            }
            case "sub-agent.finished":
            {
                var run = RunFrom(data);
                if (run is null)
                {
                    return null;
                }

                run.SubAgentId ??= String(data, "sub_agent_id");
                run.Status = String(data, "status") == SubAgentRun.Failed ? SubAgentRun.Failed : SubAgentRun.Succeeded;
                run.DurationMs = Long(data, "duration_ms") ?? run.DurationMs;
                run.InputTokens = Long(data, "input_tokens") ?? run.InputTokens;
                run.OutputTokens = Long(data, "output_tokens") ?? run.OutputTokens;
                run.CostMicros = Long(data, "cost_micros") ?? run.CostMicros;
                run.Attempts = Int(data, "attempts") ?? run.Attempts;
                run.Error = String(data, "error") ?? run.Error;
                return $"{run.SubAgentId} {run.Status}";
            }
            case "judged":
                JudgeScore = Double(data, "score");
                JudgePassed = Bool(data, "passed");
                JudgeReason = String(data, "reason");
                return JudgeScore is { } score ? $"Score {score.ToString("0.##", CultureInfo.InvariantCulture)}" : null;
            case "cancel-requested":
                CancelRequested = true;
                return null;
            case "completed":
                SetStatus(TaskStatusNames.Completed);
                JudgeScore = Double(data, "judge_score") ?? JudgeScore;
                JudgePassed = Bool(data, "judge_passed") ?? JudgePassed;
                return null;
            case "failed":
                SetStatus(TaskStatusNames.Failed);
                ErrorCode = String(data, "code") ?? ErrorCode;
                ErrorMessage = String(data, "message") ?? ErrorMessage;
                return ErrorMessage;
            case "cancelled":
                SetStatus(TaskStatusNames.Cancelled);
                CancelRequested = true;
                return null;
            default:
                return null;
        }
    }

    // Statuses only move forward: a late "started" never reopens an ended task.
    private void SetStatus(string status)
    {
        if (!HasEnded)
        {
            Status = status;
        }
    }

    private SubAgentRun? RunFrom(JsonElement data)
    {
        var step = String(data, "step") ?? (Int(data, "subtask_id") is { } id ? SubAgentStepPrefix + id.ToString(CultureInfo.InvariantCulture) : null);
        if (step is null)
        {
            return null;
        }

        var run = RunFor(step);
        run.SubtaskId ??= Int(data, "subtask_id");
        run.Description ??= Plan.FirstOrDefault(p => p.Id == run.SubtaskId)?.Description;
        return run;
    }

    private SubAgentRun RunFor(string step)
    {
        if (!runs.TryGetValue(step, out var run))
        {
            run = new SubAgentRun(step);
            if (step.StartsWith(SubAgentStepPrefix, StringComparison.Ordinal)
                && int.TryParse(step.AsSpan(SubAgentStepPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var subtaskId))
            {
                run.SubtaskId = subtaskId;
                run.Description = Plan.FirstOrDefault(p => p.Id == subtaskId)?.Description;
            }

            runs[step] = run;
        }

        return run;
    }

    private static string? String(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Long(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private static int? Int(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    private static double? Double(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static bool? Bool(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
