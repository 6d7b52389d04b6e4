using System.Diagnostics;
using AgentPlatform.Domain.Messaging;
using AgentPlatform.Domain.Tenancy;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.Infrastructure.Tests.Messaging;

/// <summary>One handler attempt as a consumer saw it.</summary>
public sealed record RecordedAttempt(string Subscription, EventEnvelope Envelope, string? ScopeTenant, ActivityTraceId? TraceId, bool Succeeded);

/// <summary>
/// Collects what the test consumers saw, lets a test make a subscription fail for chosen events, and waits for
/// deliveries deterministically (no sleeping).
/// </summary>
public sealed class EventRecorder
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private readonly List<RecordedAttempt> attempts = [];
    private readonly List<(Func<RecordedAttempt, bool> Match, TaskCompletionSource<RecordedAttempt> Found)> waiters = [];
    private readonly HashSet<(string Subscription, Guid EventId)> failing = [];
    private readonly Dictionary<(string Subscription, Guid EventId), TaskCompletionSource> held = [];

    public void FailFor(string subscription, Guid eventId)
    {
        lock (gate)
        {
            failing.Add((subscription, eventId));
        }
    }

    public void Heal(string subscription, Guid eventId)
    {
        lock (gate)
        {
            failing.Remove((subscription, eventId));
        }
    }

    /// <summary>Makes <paramref name="subscription"/> wait in its handler for <paramref name="eventId"/> until released or cancelled.</summary>
    public void HoldFor(string subscription, Guid eventId)
    {
        lock (gate)
        {
            held[(subscription, eventId)] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release(string subscription, Guid eventId)
    {
        lock (gate)
        {
            if (held.Remove((subscription, eventId), out var hold))
            {
                hold.TrySetResult();
            }
        }
    }

    public IReadOnlyList<RecordedAttempt> Attempts(string subscription, Guid eventId)
    {
        lock (gate)
        {
            return attempts.Where(a => a.Subscription == subscription && a.Envelope.Id == eventId).ToList();
        }
    }

    /// <summary>The events <paramref name="subscription"/> handled successfully, in the order it handled them.</summary>
    public IReadOnlyList<EventEnvelope> Handled(string subscription)
    {
        lock (gate)
        {
            return attempts.Where(a => a.Subscription == subscription && a.Succeeded).Select(a => a.Envelope).ToList();
        }
    }

    /// <summary>Waits until <paramref name="subscription"/> has handled <paramref name="eventId"/> successfully.</summary>
    public Task<RecordedAttempt> WaitForHandledAsync(string subscription, Guid eventId) =>
        WaitForAsync(a => a.Subscription == subscription && a.Envelope.Id == eventId && a.Succeeded, $"{subscription} to handle {eventId}");

    /// <summary>Waits until <paramref name="subscription"/> has attempted <paramref name="eventId"/> <paramref name="count"/> times.</summary>
    public Task<RecordedAttempt> WaitForAttemptsAsync(string subscription, Guid eventId, int count) =>
        WaitForAsync(a => a.Subscription == subscription && a.Envelope.Id == eventId
            && attempts.Count(other => other.Subscription == subscription && other.Envelope.Id == eventId) >= count, $"{subscription} to attempt {eventId} {count} times");

    /// <summary>Records an attempt; a held attempt counts as not succeeded, since it may be cut short.</summary>
    internal Task RecordAsync(string subscription, EventEnvelope envelope, string? scopeTenant, CancellationToken cancellationToken)
    {
        Task? hold;
        bool fails;
        lock (gate)
        {
            fails = failing.Contains((subscription, envelope.Id));
            hold = held.GetValueOrDefault((subscription, envelope.Id))?.Task;
            var attempt = new RecordedAttempt(subscription, envelope, scopeTenant, Activity.Current?.TraceId, Succeeded: !fails && hold is null);
            attempts.Add(attempt);
            foreach (var waiter in waiters.Where(w => w.Match(attempt)).ToList())
            {
                waiters.Remove(waiter);
                waiter.Found.TrySetResult(attempt);
            }
        }

        if (hold is not null)
        {
            return hold.WaitAsync(cancellationToken);
        }

        return fails ? Task.FromException(new InvalidOperationException($"{subscription} cannot handle {envelope.Id}.")) : Task.CompletedTask;
    }

    // Matches run under the lock, so they may look at the other attempts.
    private async Task<RecordedAttempt> WaitForAsync(Func<RecordedAttempt, bool> match, string what)
    {
        var found = new TaskCompletionSource<RecordedAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (attempts.LastOrDefault(match) is { } existing)
            {
                return existing;
            }

            waiters.Add((match, found));
        }

        try
        {
            return await found.Task.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Waited {Timeout.TotalSeconds} s for {what}.");
        }
    }
}

/// <summary>
/// The consumer every test subscription uses: it records each attempt (with the tenant of its scope and the
/// current trace) and fails or waits when the recorder says so.
/// </summary>
public sealed class RecordingConsumer([ServiceKey] string subscription, EventRecorder recorder, ITenantContext tenantContext) : IEventConsumer
{
    public Task HandleAsync(EventEnvelope envelope, CancellationToken cancellationToken) =>
        recorder.RecordAsync(subscription, envelope, tenantContext.TenantId, cancellationToken);
}
