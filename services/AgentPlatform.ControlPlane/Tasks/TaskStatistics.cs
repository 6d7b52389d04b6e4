using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>
/// The window a statistics request covers, resolved and validated: tasks created in [<see cref="From"/>,
/// <see cref="To"/>), counted into buckets aligned to UTC hours or days. The first and last bucket may be partial.
/// </summary>
public sealed record TaskStatisticsWindow(DateTime From, DateTime To, string Bucket)
{
    public const string Hour = "hour";
    public const string Day = "day";

    /// <summary>How many days a window spans at most.</summary>
    public const int MaxDays = 92;

    /// <summary>How many buckets a window holds at most (about 41 days of hours).</summary>
    public const int MaxBuckets = 1000;

    /// <summary>How far back a window reaches by default.</summary>
    public static readonly TimeSpan DefaultLength = TimeSpan.FromDays(7);

    private const string OutOfRange = "Give a time between 1970 and 9999 (ISO 8601, e.g. 2026-11-01T00:00:00Z).";

    // Far enough from DateTime's ends that aligning a bucket or stepping back a default window cannot overflow.
    private static readonly DateTime Earliest = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Latest = new(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public TimeSpan BucketSize => SizeOf(Bucket);

    public DateTime FirstBucketStart => Floor(From, BucketSize);

    public int BucketCount => (int)(((To - FirstBucketStart).Ticks + BucketSize.Ticks - 1) / BucketSize.Ticks);

    /// <summary>The index of the bucket <paramref name="time"/> (within the window) falls in.</summary>
    public int BucketOf(DateTime time) => (int)((time - FirstBucketStart).Ticks / BucketSize.Ticks);

    /// <summary>
    /// The window <paramref name="query"/> asks for, with the defaults filled in: <c>bucket</c> is <c>day</c>, <c>to</c>
    /// is now, and <c>from</c> is seven days before the end of <c>to</c>'s bucket (so 7 day buckets or 168 hour buckets,
    /// the current one last).
    /// </summary>
    public static bool TryResolve(
        TaskStatisticsQuery query, DateTime now, [NotNullWhen(true)] out TaskStatisticsWindow? window, out string field, out string error)
    {
        ArgumentNullException.ThrowIfNull(query);
        (window, field, error) = (null, "", "");
        var bucket = string.IsNullOrEmpty(query.Bucket) ? Day : query.Bucket;
        if (bucket is not (Hour or Day))
        {
            (field, error) = ("bucket", $"The bucket is '{Hour}' or '{Day}'.");
            return false;
        }

        var size = SizeOf(bucket);
        var to = query.To?.UtcDateTime ?? now;
        if (to < Earliest || to > Latest)
        {
            (field, error) = ("to", OutOfRange);
            return false;
        }

        var from = query.From?.UtcDateTime ?? Floor(to.AddTicks(-1), size) + size - DefaultLength;
        if (from < Earliest || from > Latest)
        {
            (field, error) = ("from", OutOfRange);
            return false;
        }

        if (from >= to)
        {
            (field, error) = ("to", "'to' must be later than 'from'.");
            return false;
        }

        if (to - from > TimeSpan.FromDays(MaxDays))
        {
            (field, error) = ("from", string.Create(CultureInfo.InvariantCulture, $"The window spans at most {MaxDays} days; ask for a shorter one."));
            return false;
        }

        var resolved = new TaskStatisticsWindow(from, to, bucket);
        if (resolved.BucketCount > MaxBuckets)
        {
            (field, error) = ("bucket", string.Create(CultureInfo.InvariantCulture,
                $"The window holds {resolved.BucketCount} {bucket} buckets, at most {MaxBuckets}; ask for '{Day}' buckets or a shorter window."));
            return false;
        }

        window = resolved;
        return true;
    }

    private static TimeSpan SizeOf(string bucket) => bucket == Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);

    private static DateTime Floor(DateTime time, TimeSpan size) => new(time.Ticks - (time.Ticks % size.Ticks), DateTimeKind.Utc);
}

/// <summary>
/// Computes the statistics of a window. Counts, tokens and cost are summed in the database, grouped by UTC hour and
/// status (which both SQLite and PostgreSQL translate), and rolled up into buckets here. Percentiles need the
/// durations themselves, which neither provider aggregates the same way: they are computed here from a projection of
/// the window's ended tasks (three timestamps a task, no tracking), read only when the window holds at most
/// <c>maxEndedTasks</c> of them.
/// </summary>
public static class TaskStatistics
{
    /// <summary>How many ended tasks a window may hold: three timestamps of each are read (some 15 MB at most).</summary>
    public const int MaxEndedTasks = 200_000;

    /// <summary>How many sub-agents <c>top_failing_sub_agents</c> lists.</summary>
    public const int TopFailingSubAgents = 5;

    /// <summary>
    /// The statistics of the current tenant's tasks in <paramref name="window"/>, or null when the window holds more
    /// than <paramref name="maxEndedTasks"/> ended tasks.
    /// </summary>
    public static async Task<TaskStatisticsResponse?> ComputeAsync(
        AgentPlatformDbContext db, TaskStatisticsWindow window, int maxEndedTasks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(window);
        var (from, to) = (window.From, window.To);
        var tasks = db.Tasks.AsNoTracking().Where(t => t.CreatedAt >= from && t.CreatedAt < to);

        var hours = await tasks
            .GroupBy(t => new { t.CreatedAt.Year, t.CreatedAt.Month, t.CreatedAt.Day, t.CreatedAt.Hour, t.Status })
            .Select(g => new
            {
                g.Key.Year,
                g.Key.Month,
                g.Key.Day,
                g.Key.Hour,
                g.Key.Status,
                Count = g.Count(),
                InputTokens = g.Sum(t => t.InputTokens),
                OutputTokens = g.Sum(t => t.OutputTokens),
                CostMicros = g.Sum(t => t.CostMicros),
            })
            .ToListAsync(cancellationToken);

        var buckets = Enumerable.Range(0, window.BucketCount).Select(_ => new Tally()).ToArray();
        foreach (var hour in hours)
        {
            var start = new DateTime(hour.Year, hour.Month, hour.Day, hour.Hour, 0, 0, DateTimeKind.Utc);
            buckets[window.BucketOf(start)].Add(hour.Status, hour.Count, hour.InputTokens, hour.OutputTokens, hour.CostMicros);
        }

        var totals = new Tally();
        foreach (var bucket in buckets)
        {
            totals.Add(bucket);
        }

        if (totals.Ended > maxEndedTasks)
        {
            return null;
        }

        // Tasks cancelled while queued never started: they have no duration.
        var ended = await tasks
            .Where(t => (t.Status == TaskStatuses.Completed || t.Status == TaskStatuses.Failed || t.Status == TaskStatuses.Cancelled)
                && t.StartedAt != null && t.CompletedAt != null)
            .Select(t => new { t.CreatedAt, t.StartedAt, t.CompletedAt })
            .ToListAsync(cancellationToken);
        foreach (var task in ended)
        {
            var duration = TaskDetails.MillisecondsBetween(task.StartedAt, task.CompletedAt)!.Value;
            buckets[window.BucketOf(task.CreatedAt)].Durations.Add(duration);
            totals.Durations.Add(duration);
        }

        var subAgents = await db.TaskSteps.AsNoTracking()
            .Where(s => s.Activity == TaskActivities.RunSubAgent.Name && s.SubAgentId != null)
            .Join(tasks, s => s.TaskId, t => t.Id, (s, _) => s)
            .GroupBy(s => s.SubAgentId!)
            .Select(g => new { SubAgentId = g.Key, Runs = g.Count(), Failures = g.Count(s => s.Status == SubAgentStatuses.Failed) })
            .Where(g => g.Failures > 0)
            .OrderByDescending(g => g.Failures).ThenBy(g => g.Runs).ThenBy(g => g.SubAgentId)
            .Take(TopFailingSubAgents)
            .ToListAsync(cancellationToken);

        return new TaskStatisticsResponse(
            from,
            to,
            window.Bucket,
            totals.ToFigures(),
            [.. buckets.Select((bucket, i) => bucket.ToBucket(window.FirstBucketStart + (window.BucketSize * i)))],
            [.. subAgents.Select(s => new SubAgentFailureStatistics(s.SubAgentId, s.Runs, s.Failures, (double)s.Failures / s.Runs))]);
    }

    /// <summary>
    /// The nearest-rank percentile: the smallest value at least <paramref name="percent"/> % of the values are at most
    /// (so always one of them), or null when there are none. <paramref name="sorted"/> is in ascending order.
    /// </summary>
    public static long? Percentile(IReadOnlyList<long> sorted, int percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = ((long)percent * sorted.Count + 99) / 100;
        return sorted[(int)Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    private sealed class Tally
    {
        private long queued, running, completed, failed, cancelled, other, inputTokens, outputTokens, costMicros;

        public List<long> Durations { get; } = [];

        public long Ended => completed + failed + cancelled;

        public void Add(string status, long count, long input, long output, long cost)
        {
            switch (status)
            {
                case TaskStatuses.Queued:
                    queued += count;
                    break;
                case TaskStatuses.Running:
                    running += count;
                    break;
                case TaskStatuses.Completed:
                    completed += count;
                    break;
                case TaskStatuses.Failed:
                    failed += count;
                    break;
                case TaskStatuses.Cancelled:
                    cancelled += count;
                    break;
                default:
                    // A status a newer runner wrote: still a submitted task.
                    other += count;
                    break;
            }

            (inputTokens, outputTokens, costMicros) = (inputTokens + input, outputTokens + output, costMicros + cost);
        }

        public void Add(Tally bucket)
        {
            (queued, running, completed, failed, cancelled, other) =
                (queued + bucket.queued, running + bucket.running, completed + bucket.completed, failed + bucket.failed, cancelled + bucket.cancelled, other + bucket.other);
            (inputTokens, outputTokens, costMicros) = (inputTokens + bucket.inputTokens, outputTokens + bucket.outputTokens, costMicros + bucket.costMicros);
        }

        public TaskStatisticsFigures ToFigures()
        {
            Durations.Sort();
            return new(
                queued + running + Ended + other, queued, running, completed, failed, cancelled, SuccessRate,
                Percentile(Durations, 50), Percentile(Durations, 95), Usage);
        }

        public TaskStatisticsBucket ToBucket(DateTime start)
        {
            var figures = ToFigures();
            return new(
                start, figures.Submitted, queued, running, completed, failed, cancelled, figures.SuccessRate,
                figures.P50DurationMs, figures.P95DurationMs, figures.Usage);
        }

        private double? SuccessRate => Ended == 0 ? null : (double)completed / Ended;

        private TaskUsage Usage => new(inputTokens, outputTokens, inputTokens + outputTokens, costMicros);
    }
}
