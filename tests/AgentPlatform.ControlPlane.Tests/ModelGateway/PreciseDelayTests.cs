using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using AgentPlatform.Testing.ModelUpstream;

namespace AgentPlatform.ControlPlane.Tests.ModelGateway;

/// <summary>
/// The scripted upstream's latency is what the model gateway benchmark compares against, so its delays must end
/// when due: never early, in the order they fall due, and a caller that gives up must not hold the others back.
/// </summary>
public sealed class PreciseDelayTests
{
    private static readonly int[] DelaysMs = [120, 40, 80, 0, 60];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Delays_end_in_the_order_they_fall_due_and_never_before()
    {
        var ended = new ConcurrentQueue<int>();
        var started = Stopwatch.GetTimestamp();
        var delays = DelaysMs.Select(async ms =>
        {
            await PreciseDelay.DelayAsync(TimeSpan.FromMilliseconds(ms), Ct);
            var elapsed = Stopwatch.GetElapsedTime(started);
            ended.Enqueue(ms);
            return (ms, elapsed);
        }).ToList();

        foreach (var (ms, elapsed) in await Task.WhenAll(delays))
        {
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(ms), $"The {ms} ms delay ended after {elapsed.TotalMilliseconds:F1} ms.");
        }

        Assert.Equal([0, 40, 60, 80, 120], ended);
    }

    [Fact]
    public async Task A_canceled_delay_ends_at_once_and_the_others_still_end_when_due()
    {
        using var giveUp = new CancellationTokenSource();
        var canceled = PreciseDelay.DelayAsync(TimeSpan.FromMinutes(5), giveUp.Token);
        var started = Stopwatch.GetTimestamp();
        var kept = PreciseDelay.DelayAsync(TimeSpan.FromMilliseconds(50), Ct);

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
        await kept;
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task The_upstream_never_answers_before_its_latency_whatever_the_jitter()
    {
        await using var upstream = await ScriptedOpenAiUpstream.StartAsync(Ct);
        upstream.Latency = TimeSpan.FromMilliseconds(60);
        upstream.LatencyJitter = TimeSpan.FromMilliseconds(20);
        using var http = new HttpClient { BaseAddress = upstream.BaseAddress };

        var times = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsJsonAsync("chat/completions", new { model = "m", messages = new[] { new { role = "user", content = "hi" } } }, Ct);
            response.EnsureSuccessStatusCode();
            times.Add(Stopwatch.GetElapsedTime(started));
        }

        Assert.All(times, time => Assert.True(time >= TimeSpan.FromMilliseconds(60), $"An answer came after {time.TotalMilliseconds:F1} ms."));
    }
}
