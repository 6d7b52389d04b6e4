using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentPlatform.ControlPlane.Tests.Support;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.Orchestration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPlatform.ControlPlane.Tests.MainChain;

/// <summary>
/// The Worker process is killed (SIGKILL, no clean-up) in the middle of a task; another Worker takes the task over
/// when the dead one's lease expires and completes it from the journal, without running a finished step again.
/// </summary>
public sealed class WorkerCrashTests(SqlitePlatformFixture fixture) : IClassFixture<SqlitePlatformFixture>
{
    private static readonly Dictionary<string, string?> ShortLease = new() { ["TaskRunner:LeaseDuration"] = "00:00:05" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 600_000)]
    public async Task A_task_survives_its_worker_process_being_killed_and_no_finished_step_runs_twice()
    {
        var platform = await fixture.GetAsync();
        var client = platform.CreateClient(await platform.SignInAsAdminAsync());

        // Kill the worker process as soon as the journal has a finished step of a task that has not ended. A fast
        // machine may finish a task between two looks; then try again with a new one.
        Guid taskId = default;
        List<StepSnapshot>? beforeKill = null;
        for (var attempt = 0; attempt < 5 && beforeKill is null; attempt++)
        {
            taskId = await SubmitAsync(client, LargeInput(attempt));
            using var worker = new WorkerProcess(platform.WorkerSettings(ShortLease));
            beforeKill = await KillWhenMidTaskAsync(platform, worker, taskId);
        }

        Assert.True(beforeKill is not null, "the worker was never caught in the middle of a task");

        // Started again: a new Worker process, which takes the task over when the dead one's lease expires.
        using (new WorkerProcess(platform.WorkerSettings(ShortLease)))
        {
            var task = await WaitForFinalAsync(client, taskId);
            Assert.Equal("completed", task.GetProperty("status").GetString());
        }

        await using var scope = platform.CreateTenantScope("default");
        var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
        var after = await db.TaskSteps.AsNoTracking().Where(s => s.TaskId == taskId).ToListAsync(Ct);
        foreach (var step in beforeKill!)
        {
            // Journaled before the kill and never run again: the same row, untouched.
            var same = Assert.Single(after, s => s.Key == step.Key);
            Assert.Equal(step.CompletedAt, same.CompletedAt);
            Assert.Equal(step.Attempts, same.Attempts);
        }

        Assert.True(after.Count > beforeKill.Count, "the second worker ran the remaining steps");
        // The killed run and the new process's run. A run that stops on its own (its store briefly unreachable) gives
        // the task back and runs it again, which is allowed below MaxRuns; what must hold is that no journaled step
        // ran twice (above).
        var row = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, TestContext.Current.CancellationToken);
        Assert.InRange(row.Runs, 2, 4);
        var resumed = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId && e.Type == "resumed").OrderBy(e => e.Id).FirstAsync(Ct);
        using var data = JsonDocument.Parse(resumed.Data);
        Assert.True(data.RootElement.GetProperty("journaled_steps").GetInt32() >= beforeKill.Count);
        // One "finished" event per sub-agent step: nothing was reported twice.
        var finished = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId && e.Type == "sub-agent.finished").CountAsync(Ct);
        Assert.Equal(after.Count(s => s.Key.StartsWith("sub-agent/", StringComparison.Ordinal)), finished);
    }

    private static async Task<List<StepSnapshot>?> KillWhenMidTaskAsync(RunningPlatform platform, WorkerProcess worker, Guid taskId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(worker.HasExited, $"the worker process exited by itself: {worker.Output}");
            await using (var scope = platform.CreateTenantScope("default"))
            {
                var db = scope.ServiceProvider.GetRequiredService<AgentPlatformDbContext>();
                var status = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).SingleAsync(Ct);
                if (TaskStatuses.IsFinal(status))
                {
                    return null;
                }

                if (await db.TaskSteps.AnyAsync(s => s.TaskId == taskId, Ct))
                {
                    await worker.KillAsync();
                    var snapshot = await db.TaskSteps.AsNoTracking().Where(s => s.TaskId == taskId)
                        .Select(s => new StepSnapshot(s.Key, s.CompletedAt, s.Attempts)).ToListAsync(Ct);
                    var afterKill = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).SingleAsync(Ct);
                    return TaskStatuses.IsFinal(afterKill) ? null : snapshot;
                }
            }

            await Task.Delay(10, Ct);
        }

        throw new TimeoutException($"The worker process did not start the task within 2 minutes. Its output: {worker.Output}");
    }

    private static string LargeInput(int seed)
    {
        var input = new StringBuilder();
        for (var line = 0; input.Length < 512 * 1024; line++)
        {
            input.Append("Entry ").Append(seed).Append('.').Append(line).Append(": region north sold 120 units, region south 95.\n");
        }

        return input.Append("Compare the regions. Then draft a summary for the board.").ToString();
    }

    private static async Task<Guid> SubmitAsync(HttpClient client, string input)
    {
        using var response = await client.PostAsJsonAsync("/api/tasks", new { input }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return Guid.Parse((await response.ReadJsonAsync()).GetProperty("task_id").GetString()!);
    }

    private static async Task<JsonElement> WaitForFinalAsync(HttpClient client, Guid taskId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            using var response = await client.GetAsync($"/api/tasks/{taskId}", Ct);
            var task = await response.ReadJsonAsync();
            if (TaskStatuses.IsFinal(task.GetProperty("status").GetString()!))
            {
                return task;
            }

            Assert.True(DateTime.UtcNow < deadline, $"task {taskId} did not finish within 2 minutes: {task}");
            await Task.Delay(100, Ct);
        }
    }

    private sealed record StepSnapshot(string Key, DateTime CompletedAt, int Attempts);

    /// <summary>
    /// The Worker as its own operating-system process (<c>dotnet AgentPlatform.Worker.dll</c>), configured like the
    /// in-process ones. Its output is drained (a full pipe would block it) and its last lines kept for failure
    /// messages; disposing kills it, so a failing test never leaves a worker behind.
    /// </summary>
    private sealed class WorkerProcess : IDisposable
    {
        private readonly Process process;
        private readonly Queue<string> lastLines = new();

        public WorkerProcess(IReadOnlyDictionary<string, string?> settings)
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "AgentPlatform.Worker.dll")])
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var (key, value) in settings)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            start.Environment["DOTNET_ENVIRONMENT"] = "Development";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = null;
            process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, line) => Keep(line.Data);
            process.ErrorDataReceived += (_, line) => Keep(line.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public bool HasExited => process.HasExited;

        public string Output
        {
            get
            {
                lock (lastLines)
                {
                    return string.Join('\n', lastLines);
                }
            }
        }

        /// <summary>SIGKILL: no shutdown, no lease released, as when a machine dies.</summary>
        public async Task KillAsync()
        {
            process.Kill(entireProcessTree: true);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }

        public void Dispose()
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(30));
                }
            }
            finally
            {
                process.Dispose();
            }
        }

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (lastLines)
            {
                lastLines.Enqueue(line);
                if (lastLines.Count > 50)
                {
                    lastLines.Dequeue();
                }
            }
        }
    }
}
