using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>The interpreters <see cref="GVisorSandbox"/> runs code with.</summary>
public enum SandboxLanguage
{
    Python,
    Bash,
}

/// <summary>How a sandboxed run ended. <see cref="ExitCode"/> is null when the time limit killed it.</summary>
public sealed record SandboxRun(int? ExitCode, string Stdout, string Stderr, bool TimedOut, bool OutputTruncated, TimeSpan Duration);

/// <summary>
/// Runs untrusted code in a gVisor sandbox (<c>runsc run</c> over an OCI bundle made fresh for each run, deleted
/// afterwards). Not <c>runsc do</c>: that shows the program the host's whole file system and environment. The sandbox
/// gets no network (<c>--network=none</c>), a root file system of only the system's programs and libraries
/// (read-only), a writable workspace and <c>/tmp</c> whose writes stay in sandbox memory, no environment but PATH,
/// HOME and LANG, an unprivileged user without capabilities, a per-process address-space limit and a cgroup memory
/// and CPU limit for the sandbox as a whole, and a wall-clock limit after which it is killed. Where runsc is absent
/// every run fails with a clear error; code never runs unsandboxed.
/// </summary>
public sealed class GVisorSandbox : IDisposable
{
    /// <summary>Host paths every sandbox sees read-only (where they exist): programs, libraries, the loader cache.</summary>
    public static readonly IReadOnlyList<string> BaseReadOnlyPaths =
        ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/alternatives", "/etc/ld.so.cache"];

    public const string NotInstalledMessage = "Code execution needs gVisor (runsc); it is not installed on this worker.";

    // The sandbox's own kernel (the Sentry) lives in the same cgroup as the program.
    private const int SandboxOverheadMiB = 128;
    private const int NobodyId = 65534;
    private const string HostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly JsonSerializerOptions SpecJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly string[] DevOptions = ["nosuid", "mode=755"];
    private static readonly string[] TmpOptions = ["nosuid", "nodev", "mode=1777"];
    private static readonly string[] WorkspaceOptions = ["rbind", "rw", "nosuid", "nodev"];
    private static readonly string[] ReadOnlyOptions = ["rbind", "ro", "nosuid", "nodev"];

    private readonly IOptionsMonitor<RunCodeOptions> options;
    private readonly ILogger<GVisorSandbox> logger;
    private readonly SemaphoreSlim gate;
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> probes = new(StringComparer.Ordinal);

    public GVisorSandbox(IOptionsMonitor<RunCodeOptions> options, ILogger<GVisorSandbox> logger)
    {
        this.options = options;
        this.logger = logger;
        gate = new SemaphoreSlim(options.CurrentValue.MaxConcurrentRuns);
    }

    /// <summary>
    /// Null when runsc and the interpreter of <paramref name="language"/> are there and runsc runs; else why not.
    /// Checked once per runsc path, at first use.
    /// </summary>
    public async Task<string?> CheckAvailableAsync(SandboxLanguage language)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Code execution needs gVisor (runsc), which runs on Linux only.";
        }

        var settings = options.CurrentValue;
        var runsc = settings.RunscPath;
        var problem = await probes.GetOrAdd(runsc, path => new Lazy<Task<string?>>(() => ProbeRunscAsync(path))).Value;
        if (problem is not null)
        {
            return problem;
        }

        var interpreter = Interpreter(settings, language);
        if (string.IsNullOrWhiteSpace(interpreter))
        {
            return $"The {language.ToString().ToLowerInvariant()} language is disabled on this worker.";
        }

        return File.Exists(interpreter) && MountedPaths(settings).Any(p => IsUnder(interpreter, p))
            ? null
            : $"Code execution in {language.ToString().ToLowerInvariant()} needs {interpreter}; it is not installed on this worker (or not in a path the sandbox mounts).";
    }

    public async Task<SandboxRun> RunAsync(SandboxLanguage language, string code, CancellationToken cancellationToken)
    {
        if (await CheckAvailableAsync(language) is { } problem)
        {
            throw new ToolException(ToolException.Unavailable, problem);
        }

        if (!OperatingSystem.IsLinux())
        {
            throw new ToolException(ToolException.Unavailable, NotInstalledMessage);
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            return await RunSandboxedAsync(language, code, options.CurrentValue, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    [SupportedOSPlatform("linux")]
    private async Task<SandboxRun> RunSandboxedAsync(SandboxLanguage language, string code, RunCodeOptions settings, CancellationToken cancellationToken)
    {
        var runsc = ResolveExecutable(settings.RunscPath) ?? throw new ToolException(ToolException.Unavailable, NotInstalledMessage);
        var id = $"agentplatform-{Guid.NewGuid():N}";
        var bundle = Path.Combine(string.IsNullOrWhiteSpace(settings.WorkingDirectoryRoot) ? Path.GetTempPath() : settings.WorkingDirectoryRoot, id);
        var state = Path.Combine(bundle, "state");
        Directory.CreateDirectory(bundle, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            WriteBundle(bundle, language, code, settings);
            Directory.CreateDirectory(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var stopwatch = Stopwatch.StartNew();
            using var process = Start(runsc, [.. GlobalFlags(state, settings), "run", "--bundle", bundle, id], bundle);
            var timedOut = false;
            CappedOutput output, errors;
            try
            {
                process.StandardInput.Close();
                var stdout = ReadCappedAsync(process.StandardOutput.BaseStream, settings.MaxOutputBytes);
                var stderr = ReadCappedAsync(process.StandardError.BaseStream, settings.MaxOutputBytes);
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    deadline.CancelAfter(settings.Timeout);
                    try
                    {
                        await process.WaitForExitAsync(deadline.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        timedOut = !cancellationToken.IsCancellationRequested;
                        await KillAsync(runsc, state, id, process, settings);
                    }
                }

                output = await CollectAsync(stdout);
                errors = await CollectAsync(stderr);
                stopwatch.Stop();
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }

                // runsc removes a container's state and cgroup when it exits by itself; after a kill that is our job.
                if (Directory.EnumerateFileSystemEntries(state).Any())
                {
                    await RunscAsync(runsc, [.. GlobalFlags(state, settings), "delete", "--force", id]);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (!timedOut && process.ExitCode == 128 && IsRunscFailure(errors.Text))
            {
                logger.LogError("gVisor could not start the sandbox {ContainerId}: {RunscError}", id, errors.Text);
                throw new ToolException("sandbox_failed", "The sandbox could not be started on this worker; the operator has the details in its log.");
            }

            return new SandboxRun(timedOut ? null : process.ExitCode, output.Text, errors.Text, timedOut, output.Truncated || errors.Truncated, stopwatch.Elapsed);
        }
        finally
        {
            DeleteBundle(bundle);
        }
    }

    [SupportedOSPlatform("linux")]
    private static void WriteBundle(string bundle, SandboxLanguage language, string code, RunCodeOptions settings)
    {
        // The sandbox runs as nobody, so what it reads is world-readable. Modes are set explicitly: creating applies the
        // worker's umask.
        var rootfs = Path.Combine(bundle, "rootfs");
        var workspace = Path.Combine(bundle, "workspace");
        MakeDirectory(rootfs);

        // The workspace takes the program's writes, which the memory overlay keeps off the host.
        MakeDirectory(workspace, UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        var script = language == SandboxLanguage.Python ? "main.py" : "main.sh";
        WriteFile(Path.Combine(workspace, script), code);

        foreach (var directory in (string[])["etc", "proc", "dev", "tmp", "workspace"])
        {
            MakeDirectory(Path.Combine(rootfs, directory));
        }

        WriteFile(Path.Combine(rootfs, "etc", "passwd"), $"nobody:x:{NobodyId}:{NobodyId}:nobody:/tmp:/usr/sbin/nologin\n");
        WriteFile(Path.Combine(rootfs, "etc", "group"), $"nogroup:x:{NobodyId}:\n");
        WriteFile(Path.Combine(rootfs, "etc", "hosts"), "127.0.0.1 localhost\n::1 localhost\n");

        var mounts = new List<object>
        {
            new { Destination = "/proc", Type = "proc", Source = "proc" },
            new { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = DevOptions },
            new { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = TmpOptions },
            new { Destination = "/workspace", Type = "bind", Source = workspace, Options = WorkspaceOptions },
        };
        foreach (var path in MountedPaths(settings).Where(p => Path.Exists(p) || new FileInfo(p).LinkTarget is not null))
        {
            var inside = Path.Combine(rootfs, path.TrimStart('/'));
            MakeDirectory(Path.GetDirectoryName(inside)!);
            if (new FileInfo(path).LinkTarget is { } target)
            {
                // Merged-/usr systems link /bin to usr/bin: the same link inside resolves into the mounted /usr.
                File.CreateSymbolicLink(inside, target);
                continue;
            }

            if (Directory.Exists(path))
            {
                MakeDirectory(inside);
            }
            else
            {
                WriteFile(inside, "");
            }

            mounts.Add(new { Destination = path, Type = "bind", Source = path, Options = ReadOnlyOptions });
        }

        var memoryBytes = (long)settings.MemoryLimitMiB * 1024 * 1024;
        var cpuSeconds = (long)Math.Ceiling(settings.Timeout.TotalSeconds) + 1;
        string[] args = language == SandboxLanguage.Python
            ? [settings.PythonPath, "-I", "-u", $"/workspace/{script}"]
            : [settings.BashPath!, "--noprofile", "--norc", $"/workspace/{script}"];
        var spec = new
        {
            OciVersion = "1.0.2",
            Process = new
            {
                User = new { Uid = NobodyId, Gid = NobodyId },
                Args = args,
                Env = new[] { "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8" },
                Cwd = "/workspace",
                NoNewPrivileges = true,
                Capabilities = new { Bounding = Array.Empty<string>(), Effective = Array.Empty<string>(), Inheritable = Array.Empty<string>(), Permitted = Array.Empty<string>() },
                Rlimits = new[]
                {
                    new { Type = "RLIMIT_AS", Hard = memoryBytes, Soft = memoryBytes },
                    new { Type = "RLIMIT_CPU", Hard = cpuSeconds, Soft = cpuSeconds },
                    new { Type = "RLIMIT_NOFILE", Hard = 256L, Soft = 256L },
                    new { Type = "RLIMIT_CORE", Hard = 0L, Soft = 0L },
                },
            },
            Root = new { Path = rootfs, Readonly = true },
            Hostname = "sandbox",
            Mounts = mounts,
            Linux = new
            {
                Namespaces = new[] { new { Type = "pid" }, new { Type = "network" }, new { Type = "ipc" }, new { Type = "uts" }, new { Type = "mount" } },
                // Relative: a child of the worker's own cgroup, so the worker's limits still cover its sandboxes.
                CgroupsPath = Path.GetFileName(bundle),
                Resources = new
                {
                    Memory = new { Limit = memoryBytes + (SandboxOverheadMiB * 1024L * 1024L) },
                    Cpu = new { Quota = (long)(settings.CpuLimit * 100_000), Period = 100_000L },
                },
            },
        };
        File.WriteAllText(Path.Combine(bundle, "config.json"), JsonSerializer.Serialize(spec, SpecJson));
    }

    [SupportedOSPlatform("linux")]
    private static void MakeDirectory(string path, UnixFileMode extra = UnixFileMode.None)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | extra);
    }

    [SupportedOSPlatform("linux")]
    private static void WriteFile(string path, string content)
    {
        File.WriteAllText(path, content, new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static string[] GlobalFlags(string state, RunCodeOptions settings)
    {
        var flags = new List<string> { "--root", state, "--network=none", "--overlay2=all:memory" };
        if (settings.Rootless)
        {
            flags.Add("--rootless");
        }

        if (settings.Rootless || settings.IgnoreCgroups)
        {
            flags.Add("--ignore-cgroups");
        }

        return [.. flags];
    }

    /// <summary>
    /// Kills the sandbox (its init, so the container stops), then, should runsc not exit, its whole process tree; a
    /// sandbox left behind is force-deleted by the caller.
    /// </summary>
    private async Task KillAsync(string runsc, string state, string id, Process process, RunCodeOptions settings)
    {
        await RunscAsync(runsc, [.. GlobalFlags(state, settings), "kill", id, "KILL"]);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The gVisor sandbox {ContainerId} did not stop after SIGKILL; killing runsc's process tree.", id);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private async Task<string?> ProbeRunscAsync(string configured)
    {
        if (ResolveExecutable(configured) is not { } runsc)
        {
            logger.LogWarning("Code execution is unavailable: gVisor's runsc ('{RunscPath}') is not installed on this worker.", configured);
            return $"{NotInstalledMessage} ('{configured}' was not found.)";
        }

        var (exitCode, output) = await RunscAsync(runsc, ["--version"]);
        if (exitCode != 0)
        {
            logger.LogWarning("Code execution is unavailable: '{RunscPath} --version' exited with {ExitCode}: {Output}", runsc, exitCode, output);
            return $"Code execution needs gVisor (runsc), and the runsc on this worker ({runsc}) does not run.";
        }

        logger.LogInformation("Code execution runs in gVisor: {RunscVersion}", output.Split('\n')[0]);
        return null;
    }

    private async Task<(int ExitCode, string Output)> RunscAsync(string runsc, string[] arguments)
    {
        try
        {
            using var process = Start(runsc, arguments, Path.GetTempPath());
            process.StandardInput.Close();
            var stdout = ReadCappedAsync(process.StandardOutput.BaseStream, 16 * 1024);
            var stderr = ReadCappedAsync(process.StandardError.BaseStream, 16 * 1024);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"runsc {arguments.LastOrDefault()} did not finish within 15 s");
            }

            return (process.ExitCode, ((await stdout).Text + (await stderr).Text).Trim());
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            logger.LogWarning(exception, "Could not start {Runsc}.", runsc);
            return (-1, exception.Message);
        }
    }

    private static Process Start(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // runsc needs no environment; the worker's (connection strings, credentials) must not reach it.
        startInfo.Environment.Clear();
        startInfo.Environment["PATH"] = HostPath;
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
    }

    private static async Task<CappedOutput> ReadCappedAsync(Stream stream, int maxBytes)
    {
        var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var truncated = false;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            // Keep reading past the cap so the program never blocks on a full pipe; drop what does not fit.
            var fits = (int)Math.Min(read, maxBytes - kept.Length);
            kept.Write(buffer, 0, fits);
            truncated |= fits < read;
        }

        return new CappedOutput(Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length), truncated);
    }

    private async Task<CappedOutput> CollectAsync(Task<CappedOutput> reading)
    {
        // The pipes close when the sandbox is gone; a straggler holding them must not hold the call.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            return await reading.WaitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The output of a gVisor sandbox did not close after the sandbox ended.");
            return new CappedOutput("", true);
        }
    }

    private void DeleteBundle(string bundle)
    {
        try
        {
            Directory.Delete(bundle, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(exception, "Could not delete the sandbox directory {Bundle}.", bundle);
        }
    }

    // runsc reports its own failures with exit code 128 and one of these on stderr.
    private static bool IsRunscFailure(string stderr) =>
        stderr.Contains("running container:", StringComparison.Ordinal)
        || stderr.Contains("creating container:", StringComparison.Ordinal)
        || stderr.Contains("starting container:", StringComparison.Ordinal)
        || stderr.Contains("reading spec:", StringComparison.Ordinal);

    private static string? Interpreter(RunCodeOptions settings, SandboxLanguage language) =>
        language == SandboxLanguage.Python ? settings.PythonPath : settings.BashPath;

    private static IEnumerable<string> MountedPaths(RunCodeOptions settings) =>
        BaseReadOnlyPaths.Concat(settings.AdditionalReadOnlyPaths).Select(p => p.TrimEnd('/')).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal);

    private static bool IsUnder(string path, string directory) =>
        path == directory || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private static string? ResolveExecutable(string configured)
    {
        if (configured.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? HostPath).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, configured))
            .FirstOrDefault(File.Exists);
    }

    public void Dispose() => gate.Dispose();

    private sealed record CappedOutput(string Text, bool Truncated);
}
