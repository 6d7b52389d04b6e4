using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using AgentPlatform.Testing;
using AgentPlatform.Worker.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AgentPlatform.Worker.Tests.Models;

/// <summary>A model call waits out the gateway's Retry-After instead of failing its step, within bounds.</summary>
public sealed class RetryAfterHandlerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider clock = new(DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_rate_limited_call_waits_its_retry_after_and_is_sent_again_with_the_same_body()
    {
        var upstream = new ScriptedUpstream(Answer(429, retryAfterSeconds: 3), Answer(503, retryAfterSeconds: 2), Answer(200));
        using var client = Client(upstream);

        var sending = client.PostAsync(new Uri("http://modelgateway/v1/chat/completions"), new StringContent("{\"model\":\"default\"}"), Ct);
        var firstWait = await AdvanceUntilAsync(() => upstream.Requests.Count >= 2);
        var secondWait = await AdvanceUntilAsync(() => sending.IsCompleted);
        using var response = await sending;

        Assert.InRange(firstWait, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
        Assert.InRange(secondWait, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["{\"model\":\"default\"}", "{\"model\":\"default\"}", "{\"model\":\"default\"}"], upstream.Requests);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_longest_wait_goes_back_to_the_step()
    {
        var upstream = new ScriptedUpstream(Answer(429, retryAfterSeconds: 3600));
        using var client = Client(upstream);

        using var response = await client.PostAsync(new Uri("http://modelgateway/v1/chat/completions"), new StringContent("{}"), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Single(upstream.Requests);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(400)]
    public async Task An_error_without_retry_after_goes_back_to_the_step_at_once(int status)
    {
        var upstream = new ScriptedUpstream(Answer(status));
        using var client = Client(upstream);

        using var response = await client.PostAsync(new Uri("http://modelgateway/v1/chat/completions"), new StringContent("{}"), Ct);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task The_waits_of_one_call_stop_at_the_total_bound()
    {
        var upstream = new ScriptedUpstream(Answer(429, retryAfterSeconds: 40), Answer(429, retryAfterSeconds: 40), Answer(200));
        using var client = Client(upstream, maxTotalWait: TimeSpan.FromSeconds(60));

        var sending = client.PostAsync(new Uri("http://modelgateway/v1/chat/completions"), new StringContent("{}"), Ct);
        await AdvanceUntilAsync(() => sending.IsCompleted);
        using var response = await sending;

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(2, upstream.Requests.Count);
    }

    [Fact]
    public async Task The_steps_cancellation_ends_a_wait()
    {
        var upstream = new ScriptedUpstream(Answer(429, retryAfterSeconds: 30), Answer(200));
        using var client = Client(upstream);
        using var step = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var sending = client.PostAsync(new Uri("http://modelgateway/v1/chat/completions"), new StringContent("{}"), step.Token);
        await upstream.WaitForRequestsAsync(1);
        await step.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        Assert.Single(upstream.Requests);
    }

    /// <summary>
    /// Moves the fake clock on in small steps until <paramref name="done"/> holds, and says how far: at least the
    /// wait the handler took (its timer may start a step late, never early).
    /// </summary>
    private async Task<TimeSpan> AdvanceUntilAsync(Func<bool> done)
    {
        var step = TimeSpan.FromMilliseconds(250);
        var advanced = TimeSpan.Zero;
        while (!done())
        {
            Assert.True(advanced < TimeSpan.FromMinutes(10), "The handler never got there.");
            await Task.Delay(5, Ct);
            clock.Advance(step);
            advanced += step;
        }

        return advanced;
    }

    private HttpClient Client(ScriptedUpstream upstream, TimeSpan? maxTotalWait = null)
    {
        var options = new AgentModelOptions { MaxRetryAfterWait = TimeSpan.FromSeconds(65), MaxRetryAfterTotalWait = maxTotalWait ?? TimeSpan.FromMinutes(5) };
        var handler = new RetryAfterHandler(new FixedOptionsMonitor<AgentModelOptions>(options), clock, NullLogger<RetryAfterHandler>.Instance) { InnerHandler = upstream };
        return new HttpClient(handler);
    }

    private static Func<HttpResponseMessage> Answer(int status, int? retryAfterSeconds = null) => () =>
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent("{}") };
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        return response;
    };

    /// <summary>Answers with the scripted responses in order and keeps each request's body.</summary>
    private sealed class ScriptedUpstream(params Func<HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        private readonly ConcurrentQueue<Func<HttpResponseMessage>> script = new(answers);
        private readonly List<string> requests = [];
        private readonly SemaphoreSlim received = new(0);

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (requests)
                {
                    return [.. requests];
                }
            }
        }

        public async Task WaitForRequestsAsync(int count)
        {
            while (Requests.Count < count)
            {
                await received.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
            lock (requests)
            {
                requests.Add(body);
            }

            received.Release();
            return script.TryDequeue(out var answer) ? answer() : throw new InvalidOperationException("The script has no more answers.");
        }
    }
}
