using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using AgentPlatform.Console.Platform;
using AgentPlatform.Console.Tasks;

namespace AgentPlatform.Console.Tests;

public sealed class TaskEventFollowerTests
{
    private readonly List<string?> resumedFrom = [];

    [Fact]
    public async Task A_dropped_stream_resumes_after_the_last_event_it_delivered()
    {
        var timeline = new TaskTimeline();
        var changes = 0;
        var follower = Follower(
            [Event(1, "submitted"), Event(2, "started"), Drop()],
            [Event(2, "started"), Event(3, "planned"), Event(4, "completed")]);

        await follower.FollowAsync(timeline, () => { changes++; return Task.CompletedTask; }, TestContext.Current.CancellationToken);

        Assert.Equal([null, "2"], resumedFrom);
        Assert.Equal(4, changes);
        Assert.True(timeline.HasEnded);
        Assert.Equal([1L, 2, 3, 4], timeline.Events.Select(e => e.Id!.Value));
    }

    [Fact]
    public async Task Following_stops_when_a_stream_ends_with_nothing_new()
    {
        var timeline = new TaskTimeline();
        var follower = Follower([Event(1, "submitted")], []);

        await follower.FollowAsync(timeline, () => Task.CompletedTask, TestContext.Current.CancellationToken);

        Assert.Equal([null, "1"], resumedFrom);
        Assert.False(timeline.HasEnded);
    }

    [Fact]
    public async Task Following_gives_up_after_repeated_drops_without_progress()
    {
        var follower = Follower([.. Enumerable.Range(0, TaskEventFollower.MaxConsecutiveFailures).Select(_ => new[] { Drop() })]);

        await Assert.ThrowsAsync<PlatformApiException>(() =>
            follower.FollowAsync(new TaskTimeline(), () => Task.CompletedTask, TestContext.Current.CancellationToken));
        Assert.Equal(TaskEventFollower.MaxConsecutiveFailures, resumedFrom.Count);
    }

    [Fact]
    public async Task Cancelling_stops_following()
    {
        using var cancellation = new CancellationTokenSource();
        var follower = new TaskEventFollower((_, ct) => Endless(ct), TimeSpan.Zero, TimeProvider.System);
        var timeline = new TaskTimeline();

        var following = follower.FollowAsync(timeline, () => cancellation.CancelAsync(), cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => following);
        Assert.Single(timeline.Events);
    }

    private TaskEventFollower Follower(params SseItem<string>[][] streams)
    {
        var next = 0;
        return new TaskEventFollower((lastEventId, ct) =>
        {
            resumedFrom.Add(lastEventId);
            return Stream(next < streams.Length ? streams[next++] : [], ct);
        }, TimeSpan.Zero, TimeProvider.System);
    }

    private static SseItem<string> Event(long id, string type) => new("{}", type) { EventId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    // A marker the fake stream turns into a dropped connection.
    private static SseItem<string> Drop() => new("", "drop");

    private static async IAsyncEnumerable<SseItem<string>> Stream(SseItem<string>[] items, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            if (item.EventType == "drop")
            {
                throw new PlatformApiException(0, "The platform could not be reached. Try again.");
            }

            yield return item;
        }
    }

    private static async IAsyncEnumerable<SseItem<string>> Endless([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var id = 1; ; id++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return Event(id, "started");
        }
    }
}
