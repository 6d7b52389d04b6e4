using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Models;

/// <summary>
/// Waits out the model gateway's "come back later" answers — a 429 (rate limit) or 503 (capacity, budget store)
/// that says when in <c>Retry-After</c> — and sends the call again, instead of handing the step an error that
/// would burn one of its few attempts. A rate limit is load, not failure: under a burst every task gets its turn.
/// <para>
/// Bounded three ways: a single wait longer than <see cref="AgentModelOptions.MaxRetryAfterWait"/> is not waited
/// (a spent budget says "next period", which no step should sit out); the waits of one call add up to at most
/// <see cref="AgentModelOptions.MaxRetryAfterTotalWait"/>; and the step's timeout cancels the wait. An answer
/// without <c>Retry-After</c> goes straight back to the step, whose policy decides.
/// </para>
/// <para>
/// It sits outside <see cref="ModelGatewayHandler"/>, so every attempt gets a fresh service token and its cost is
/// counted once (refused attempts cost nothing).
/// </para>
/// </summary>
public sealed partial class RetryAfterHandler(
    IOptionsMonitor<AgentModelOptions> options,
    TimeProvider timeProvider,
    ILogger<RetryAfterHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            // The same content is sent again after a wait; buffered content can be.
            await request.Content.LoadIntoBufferAsync(cancellationToken);
        }

        var settings = options.CurrentValue;
        var waited = TimeSpan.Zero;
        while (true)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (WaitFor(response) is not { } wait
                || wait > settings.MaxRetryAfterWait
                || waited + wait > settings.MaxRetryAfterTotalWait)
            {
                return response;
            }

            response.Dispose();
            waited += wait;
            LogWaiting(logger, (int)response.StatusCode, wait, waited);
            Activity.Current?.AddEvent(new ActivityEvent("model_gateway.retry_after", tags: new ActivityTagsCollection
            {
                ["http.response.status_code"] = (int)response.StatusCode,
                ["retry_after_ms"] = (long)wait.TotalMilliseconds,
            }));
            await Task.Delay(wait, timeProvider, cancellationToken);
        }
    }

    private TimeSpan? WaitFor(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            || response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        var wait = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - timeProvider.GetUtcNow() : null);
        return wait is { } value ? (value < TimeSpan.Zero ? TimeSpan.Zero : value) : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The model gateway answered {StatusCode} with Retry-After {Wait}; waiting before sending the call again ({Waited} waited so far for this call).")]
    private static partial void LogWaiting(ILogger logger, int statusCode, TimeSpan wait, TimeSpan waited);
}
