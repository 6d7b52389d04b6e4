using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using AgentPlatform.Worker.Tools;

namespace AgentPlatform.Worker.Tests.Tools;

/// <summary>
/// <c>run_code</c> in a real gVisor sandbox. These need runsc (and root): they skip where it is missing and fail in
/// CI (<c>AGENTPLATFORM_REQUIRE_INFRASTRUCTURE=true</c>). The test for a missing runsc runs everywhere.
/// </summary>
public sealed class RunCodeToolTests : IDisposable
{
    private readonly string workRoot = Directory.CreateTempSubdirectory("agentplatform-run-code-test-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(workRoot, recursive: true);

    [Fact]
    public async Task Python_output_and_exit_code_are_returned_and_the_run_leaves_nothing_behind()
    {
        GVisor.Require();
        await using var host = await StartAsync();

        var result = await Run(host, "python", "import sys\nprint('hello', 6 * 7)\nprint('oops', file=sys.stderr)");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hello 42\n", result.Stdout);
        Assert.Equal("oops\n", result.Stderr);
        Assert.False(result.TimedOut);
        Assert.Null(result.Note);
        Assert.Empty(Directory.EnumerateFileSystemEntries(workRoot));
    }

    [Fact]
    public async Task A_failing_program_reports_its_exit_code_and_error()
    {
        GVisor.Require();
        await using var host = await StartAsync();

        var exited = await Run(host, "python", "import sys\nsys.exit(3)");
        var raised = await Run(host, "python", "raise ValueError('boom')");
        var bash = await Run(host, "bash", "echo \"from bash $((2 + 3))\"; exit 7");

        Assert.Equal(3, exited.ExitCode);
        Assert.Equal(1, raised.ExitCode);
        Assert.Contains("ValueError: boom", raised.Stderr, StringComparison.Ordinal);
        Assert.Equal(7, bash.ExitCode);
        Assert.Equal("from bash 5\n", bash.Stdout);
    }

    [Fact]
    public async Task The_time_limit_kills_the_sandbox_and_its_processes()
    {
        GVisor.Require();
        await using var host = await StartAsync(new() { ["Tools:RunCode:Timeout"] = "00:00:02" });
        var stopwatch = Stopwatch.StartNew();

        var result = await Run(host, "python", "import os, time\nos.fork()\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.01)");

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("started", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("time limit", result.Note, StringComparison.Ordinal);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workRoot));
        Assert.DoesNotContain(Process.GetProcesses(), p => CommandLine(p).Contains(workRoot, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_memory_limit_is_enforced()
    {
        GVisor.Require();
        await using var host = await StartAsync(new() { ["Tools:RunCode:MemoryLimitMiB"] = "64" });

        var result = await Run(host, "python", "data = bytearray(512 * 1024 * 1024)\nprint('allocated', len(data))");

        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("allocated", result.Stdout, StringComparison.Ordinal);
        Assert.True(result.Stderr.Contains("MemoryError", StringComparison.Ordinal) || result.ExitCode == 137, result.Stderr);
    }

    [Fact]
    public async Task The_network_is_unreachable_inside()
    {
        GVisor.Require();
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var hostAddresses = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork)
            .Select(a => a.ToString())
            .Append("1.1.1.1")
            .Distinct();
        var targets = string.Join(", ", hostAddresses.Select(a => $"('{a}', {(a == "1.1.1.1" ? 53 : port)})"));
        await using var host = await StartAsync();

        var result = await Run(host, "python", $$"""
            import socket
            for target in [{{targets}}]:
                try:
                    socket.create_connection(target, timeout=3).close()
                    print('connected', target)
                except OSError as error:
                    print('unreachable', target, error.errno)
            try:
                socket.getaddrinfo('example.com', 80)
                print('resolved')
            except OSError:
                print('no dns')
            """);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("connected", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("unreachable ('127.0.0.1'", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("no dns", result.Stdout, StringComparison.Ordinal);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task The_program_sees_neither_the_hosts_files_nor_its_environment_and_its_writes_stay_inside()
    {
        GVisor.Require();
        await using var host = await StartAsync();

        var result = await Run(host, "python", """
            import os
            print(sorted(os.environ))
            print([p for p in ['/work', '/root', '/home', '/etc/shadow', '/var', '/opt', '/srv'] if os.path.exists(p)])
            print(os.getuid())
            open('/workspace/out.txt', 'w').write('x' * 1000)
            open('/tmp/out.txt', 'w').write('y')
            print(sorted(os.listdir('/workspace')))
            try:
                open('/usr/bin/evil', 'w')
            except OSError as error:
                print('read-only', error.errno)
            """);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("['HOME', 'LANG', 'PATH']\n[]\n65534\n['main.py', 'out.txt']\n", result.Stdout[..result.Stdout.IndexOf("read-only", StringComparison.Ordinal)]);
        Assert.StartsWith("read-only", result.Stdout[result.Stdout.IndexOf("read-only", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.False(File.Exists("/usr/bin/evil"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workRoot));
    }

    [Fact]
    public async Task Output_beyond_the_cap_is_cut_off()
    {
        GVisor.Require();
        await using var host = await StartAsync(new() { ["Tools:RunCode:MaxOutputBytes"] = "4096" });

        var result = await Run(host, "python", "print('z' * (1024 * 1024))\nprint('done')");

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.OutputTruncated);
        Assert.Equal(new string('z', 4096), result.Stdout);
    }

    [Fact]
    public async Task Without_gvisor_the_tool_says_so_and_never_runs_the_code()
    {
        var marker = Path.Combine(workRoot, "ran");
        await using var host = await StartAsync(new() { ["Tools:RunCode:RunscPath"] = "/nonexistent/runsc" });

        var error = await Assert.ThrowsAsync<ToolException>(() => Run(host, "python", $"open('{marker}', 'w').write('x')"));

        Assert.Equal(ToolException.Unavailable, error.Code);
        Assert.StartsWith("Code execution needs gVisor (runsc); it is not installed on this worker.", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Unknown_languages_and_oversized_code_are_refused()
    {
        await using var host = await StartAsync(new() { ["Tools:RunCode:MaxCodeLength"] = "100" });

        Assert.Equal(ToolException.InvalidArguments, (await Assert.ThrowsAsync<ToolException>(() => Run(host, "ruby", "puts 1"))).Code);
        Assert.Equal(ToolException.InvalidArguments, (await Assert.ThrowsAsync<ToolException>(() => Run(host, "python", " "))).Code);
        Assert.Equal("too_long", (await Assert.ThrowsAsync<ToolException>(() => Run(host, "python", new string('#', 101)))).Code);
    }

    private Task<ToolHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Tools:RunCode:WorkingDirectoryRoot"] = workRoot };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return ToolHost.StartAsync(all);
    }

    private static Task<RunCodeResult> Run(ToolHost host, string language, string code) => host.Tool<RunCodeTool>().RunAsync(language, code, Ct);

    private static string CommandLine(Process process)
    {
        try
        {
            return File.ReadAllText($"/proc/{process.Id}/cmdline");
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
