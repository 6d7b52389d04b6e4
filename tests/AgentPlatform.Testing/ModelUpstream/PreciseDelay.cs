using System.Diagnostics;

namespace AgentPlatform.Testing.ModelUpstream;

/// <summary>
/// Delays that end within a millisecond of when they are due. <see cref="Task.Delay(TimeSpan)"/> fires from
/// the runtime's timer queue, which counts in the coarse clock's ticks (4 ms on the Linux machines here): a 50 ms
/// delay takes anything from 50 to 58 ms. As the latency of a stand-in model that noise is larger than what the
/// model gateway benchmark measures, and it blurs the latency the gateway adds. Here one thread of its own waits
/// for the earliest due delay, timed by <see cref="Stopwatch"/>, and hands each completion to the thread pool.
/// </summary>
public static class PreciseDelay
{
    private static readonly Lock Gate = new();
    private static readonly PriorityQueue<TaskCompletionSource, long> Due = new();
    private static readonly AutoResetEvent Wake = new(initialState: false);
    private static Thread? timer;

    /// <summary>Completes <paramref name="delay"/> from now, or is canceled with <paramref name="cancellationToken"/>.</summary>
    public static Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var dueAt = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        bool earliest;
        lock (Gate)
        {
            Due.Enqueue(completion, dueAt);
            earliest = ReferenceEquals(Due.Peek(), completion);
            if (timer is null)
            {
                timer = new Thread(Run) { IsBackground = true, Name = "Precise delays" };
                timer.Start();
            }
        }

        if (earliest)
        {
            Wake.Set();
        }

        // A canceled delay stays queued until it is due; completing it then is a no-op.
        return cancellationToken.CanBeCanceled ? completion.Task.WaitAsync(cancellationToken) : completion.Task;
    }

    private static void Run()
    {
        var ready = new List<TaskCompletionSource>();
        while (true)
        {
            TimeSpan? wait = null;
            lock (Gate)
            {
                var now = Stopwatch.GetTimestamp();
                while (Due.TryPeek(out var completion, out var dueAt))
                {
                    if (dueAt > now)
                    {
                        wait = Stopwatch.GetElapsedTime(now, dueAt);
                        break;
                    }

                    ready.Add(Due.Dequeue());
                }
            }

            foreach (var completion in ready)
            {
                completion.TrySetResult();
            }

            ready.Clear();

            // Woken early by a delay due sooner than the one waited for; waits are rounded up to whole
            // milliseconds, which the wait's own precision is finer than.
            Wake.WaitOne(wait is { } until ? (int)Math.Ceiling(until.TotalMilliseconds) : Timeout.Infinite);
        }
    }
}
