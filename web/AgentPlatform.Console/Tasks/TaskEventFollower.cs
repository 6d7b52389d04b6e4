using System.Globalization;
using System.Net.ServerSentEvents;
using AgentPlatform.Console.Platform;

namespace AgentPlatform.Console.Tasks;

/// <summary>
/// Follows a task's event stream into a <see cref="TaskTimeline"/> until its final event: after a dropped connection
/// it reconnects with <c>Last-Event-ID</c> (the timeline's highest id), so nothing is missed or applied twice. Gives
/// up after <see cref="MaxConsecutiveFailures"/> drops in a row without progress, and stops when cancelled (the page
/// went away) or when the server ends a stream that brought nothing new (the task ended without a final event).
/// </summary>
public sealed class TaskEventFollower(
    Func<string?, CancellationToken, IAsyncEnumerable<SseItem<string>>> openStream, TimeSpan retryDelay, TimeProvider timeProvider)
{
    public const int MaxConsecutiveFailures = 5;

    /// <summary>Follows the stream of the task at <paramref name="taskId"/> through <paramref name="api"/>.</summary>
    public static TaskEventFollower For(PlatformApi api, Guid taskId, TimeProvider timeProvider) => new(
        (lastEventId, cancellationToken) => api.StreamEventsAsync($"/api/tasks/{taskId}/events", lastEventId, cancellationToken),
        TimeSpan.FromSeconds(2),
        timeProvider);

    /// <summary>Runs until the task's final event; <paramref name="changed"/> runs after each applied event.</summary>
    public async Task FollowAsync(TaskTimeline timeline, Func<Task> changed, CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!timeline.FinalEventSeen)
        {
            var progressed = false;
            try
            {
                var lastEventId = timeline.LastEventId?.ToString(CultureInfo.InvariantCulture);
                await foreach (var item in openStream(lastEventId, cancellationToken).WithCancellation(cancellationToken))
                {
                    long? id = long.TryParse(item.EventId, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
                    if (timeline.Apply(id, item.EventType, item.Data))
                    {
                        progressed = true;
                        failures = 0;
                        await changed();
                    }

                    if (timeline.FinalEventSeen)
                    {
                        return;
                    }
                }

                if (!progressed)
                {
                    return;
                }
            }
            catch (Exception exception) when (IsDrop(exception) && !cancellationToken.IsCancellationRequested)
            {
                if (++failures >= MaxConsecutiveFailures)
                {
                    throw;
                }
            }

            await Task.Delay(retryDelay, timeProvider, cancellationToken);
        }
    }

    private static bool IsDrop(Exception exception) =>
        exception is HttpRequestException or IOException || exception is PlatformApiException { Status: 0 or >= 500 };
}
