using AgentPlatform.Infrastructure.Caching;

namespace AgentPlatform.Infrastructure.Tests.Caching;

public sealed class BackgroundPriorityTests
{
    [Fact]
    public async Task Work_runs_on_the_background_thread_at_the_lowest_priority_and_stays_there_across_awaits()
    {
        var (before, after, nice) = await BackgroundPriority.Run(async () =>
        {
            var before = Thread.CurrentThread;
            var nice = OperatingSystem.IsLinux() ? NiceOfCurrentThread() : 19;
            await Task.Delay(10, TestContext.Current.CancellationToken);
            await Task.Yield();
            return (before, Thread.CurrentThread, nice);
        });

        Assert.Equal(BackgroundPriority.ThreadName, before.Name);
        Assert.False(before.IsThreadPoolThread);
        Assert.Same(before, after);
        Assert.Equal(19, nice);
        Assert.Equal(0, NiceOfCurrentThreadOrZero());
    }

    [Fact]
    public async Task Work_does_not_see_the_callers_execution_context()
    {
        var ambient = new AsyncLocal<string> { Value = "request of tenant t1" };

        Assert.Null(await BackgroundPriority.Run(() => Task.FromResult(ambient.Value)));
        Assert.Equal("request of tenant t1", ambient.Value);
    }

    [Fact]
    public async Task A_caller_does_not_wait_for_work_that_blocks_and_its_failure_reaches_the_task()
    {
        using var release = new ManualResetEventSlim();
        var blocking = BackgroundPriority.Run(() =>
        {
            release.Wait(TestContext.Current.CancellationToken);
            return Task.FromResult(1);
        });
        var failing = BackgroundPriority.Run<int>(() => throw new InvalidOperationException("The database is unreachable."));

        Assert.False(blocking.IsCompleted);
        release.Set();
        Assert.Equal(1, await blocking);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
    }

    private static int NiceOfCurrentThreadOrZero() => OperatingSystem.IsLinux() ? NiceOfCurrentThread() : 0;

    // /proc/thread-self/stat: "pid (comm) state ..."; after the command's closing parenthesis, nice is the 17th field.
    private static int NiceOfCurrentThread()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }
}
