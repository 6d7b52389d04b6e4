using System.ComponentModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentPlatform.Worker.Tools;

/// <summary>The <c>run_code</c> tool: Python 3 or bash in a <see cref="GVisorSandbox"/>, never outside one.</summary>
public sealed class RunCodeTool : ITool
{
    public const string ToolName = "run_code";

    private readonly GVisorSandbox sandbox;
    private readonly IOptionsMonitor<RunCodeOptions> options;

    public RunCodeTool(GVisorSandbox sandbox, IOptionsMonitor<RunCodeOptions> options)
    {
        this.sandbox = sandbox;
        this.options = options;
        var settings = options.CurrentValue;
        AIFunction = AIFunctionFactory.Create(RunAsync, new AIFunctionFactoryOptions
        {
            Name = ToolName,
            Description =
                "Runs a short Python 3 or bash program in an isolated sandbox and returns its exit code, stdout and stderr. " +
                "The sandbox has no network, sees no files but the system's programs and libraries and its own empty working " +
                $"directory, {settings.MemoryLimitMiB} MiB of memory and {settings.Timeout.TotalSeconds:0.#} s of time (then it is killed); " +
                $"output beyond {settings.MaxOutputBytes / 1024} KiB per stream is cut off. Nothing persists between runs: " +
                "print every result you need.",
        });
    }

    public AIFunction AIFunction { get; }

    public async Task<RunCodeResult> RunAsync(
        [Description("\"python\" (Python 3) or \"bash\".")] string language,
        [Description("The complete program's source code.")] string code,
        CancellationToken cancellationToken)
    {
        var parsed = language?.Trim().ToLowerInvariant() switch
        {
            "python" or "python3" or "py" => SandboxLanguage.Python,
            "bash" or "sh" => SandboxLanguage.Bash,
            _ => throw new ToolException(ToolException.InvalidArguments, "The language must be \"python\" or \"bash\"."),
        };
        var settings = options.CurrentValue;
        if (string.IsNullOrWhiteSpace(code))
        {
            throw new ToolException(ToolException.InvalidArguments, "The code is empty.");
        }

        if (code.Length > settings.MaxCodeLength)
        {
            throw new ToolException("too_long", $"The code has {code.Length} characters; at most {settings.MaxCodeLength} are accepted.");
        }

        var run = await sandbox.RunAsync(parsed, code, cancellationToken);
        var note = run.TimedOut
            ? $"The program was killed after the time limit of {settings.Timeout.TotalSeconds:0.#} s."
            : run.ExitCode == 137
                ? $"The program was killed (SIGKILL), most likely for exceeding the memory limit of {settings.MemoryLimitMiB} MiB."
                : null;
        return new RunCodeResult(run.ExitCode, run.Stdout, run.Stderr, run.TimedOut, run.OutputTruncated, Math.Round(run.Duration.TotalSeconds, 3), note);
    }
}

/// <summary>How a program ended: its exit code (null when the time limit killed it), its output and a note on why it was stopped.</summary>
public sealed record RunCodeResult(int? ExitCode, string Stdout, string Stderr, bool TimedOut, bool OutputTruncated, double DurationSeconds, string? Note);
