using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AgentPlatform.Infrastructure.Caching;

/// <summary>
/// Work that nobody waits for (a cache reloading a value that is still being served) on a thread of its own at the
/// operating system's lowest priority, so it takes only the CPU that requests leave idle and never holds a thread-pool
/// thread. On the 2-core machine (docs/benchmarks.md), route and budget reloads on the thread pool, every 2.5 s,
/// each blocked a worker for a synchronous SQLite query, and were part of the model gateway's 3–10 ms tail at c16.
/// </summary>
/// <remarks>
/// Tasks started here keep running here across their own <c>await</c>s (the scheduler is captured); what a driver
/// completes on its I/O threads runs there. One thread: reloads are short and rare, and a reload that hangs only
/// delays other reloads, never a caller — a value that expires is loaded by its next caller as usual.
/// </remarks>
public static class BackgroundPriority
{
    /// <summary>The name of the one thread that runs the work.</summary>
    public const string ThreadName = "Background priority";

    private static readonly Lazy<TaskScheduler> Instance = new(() => new LowPriorityScheduler());

    /// <summary>The scheduler whose one thread runs at the lowest priority.</summary>
    public static TaskScheduler Scheduler => Instance.Value;

    /// <summary>Runs <paramref name="work"/> on <see cref="Scheduler"/>, without the caller's execution context (trace, tenant).</summary>
    public static Task<T> Run<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, Scheduler).Unwrap();
        }
    }

    // Linux keeps a nice value per thread: PRIO_PROCESS with who = 0 sets the calling thread's. Raising one's own nice
    // value needs no privilege. (On macOS the same call would lower the whole process, so it is made on Linux only.)
    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
#pragma warning disable SYSLIB1054 // A blittable signature: DllImport needs no marshalling code, and LibraryImport would need unsafe blocks.
    private static extern int SetPriority(int which, int who, int priority);
#pragma warning restore SYSLIB1054

    private const int PrioProcess = 0;
    private const int LowestNice = 19;

    private static void LowerCurrentThread()
    {
        if (OperatingSystem.IsLinux())
        {
            // Best effort: where it is refused (a seccomp profile), the work still runs, at normal priority.
            _ = SetPriority(PrioProcess, 0, LowestNice);
        }
        else
        {
            Thread.CurrentThread.Priority = ThreadPriority.Lowest;
        }
    }

    private sealed class LowPriorityScheduler : TaskScheduler
    {
        private readonly BlockingCollection<Task> queue = [];
        private readonly Thread thread;

        public LowPriorityScheduler()
        {
            thread = new Thread(Run) { IsBackground = true, Name = ThreadName };
            thread.Start();
        }

        public override int MaximumConcurrencyLevel => 1;

        protected override void QueueTask(Task task) => queue.Add(task);

        // Only the scheduler's own thread may run a task inline; a caller on another thread queues it.
        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
            Thread.CurrentThread == thread && !taskWasPreviouslyQueued && TryExecuteTask(task);

        protected override IEnumerable<Task> GetScheduledTasks() => queue.ToArray();

        private void Run()
        {
            LowerCurrentThread();
            foreach (var task in queue.GetConsumingEnumerable())
            {
                TryExecuteTask(task);
            }
        }
    }
}
