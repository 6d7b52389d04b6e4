using System.ComponentModel.DataAnnotations;
using AgentPlatform.Orchestration;

namespace AgentPlatform.Worker.Tools;

/// <summary>Which sub-agent may call which tool (section <c>Tools</c>).</summary>
public sealed class ToolGatewayOptions
{
    public const string SectionName = "Tools";

    /// <summary>
    /// Tool names per sub-agent id (<c>Tools:Allowlists:{subAgentId}</c>). A configured list replaces the sub-agent's
    /// default (only the built-in <c>tool-execution</c> sub-agent has one: every built-in tool); an empty entry
    /// configures an empty list. A sub-agent with neither gets no tools.
    /// </summary>
    public Dictionary<string, List<string>> Allowlists { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The allowlists that apply where none is configured.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> DefaultAllowlists { get; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            [BuiltInSubAgents.ToolExecution] = [CalculatorTool.ToolName, HttpFetchTool.ToolName, RunCodeTool.ToolName],
        };

    /// <summary>
    /// The tools <paramref name="subAgentId"/> may call. A versioned id (<c>tool-execution@1.0.0</c>, as the Worker
    /// labels a running sub-agent) uses its sub-agent's list.
    /// </summary>
    public IReadOnlySet<string> AllowedTools(string subAgentId)
    {
        var at = subAgentId.IndexOf('@', StringComparison.Ordinal);
        var id = at < 0 ? subAgentId : subAgentId[..at];
        IEnumerable<string> names = Allowlists.TryGetValue(id, out var configured) ? configured
            : DefaultAllowlists.TryGetValue(id, out var defaults) ? defaults
            : [];
        return names.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).ToHashSet(StringComparer.Ordinal);
    }
}

/// <summary>The <c>http_fetch</c> tool's egress policy (section <c>Tools:HttpFetch</c>).</summary>
public sealed class HttpFetchOptions
{
    public const string SectionName = "Tools:HttpFetch";

    /// <summary>
    /// Hosts the tool may fetch from: exact names (<c>api.example.com</c>, an IP literal) or <c>*.example.com</c>
    /// for any subdomain (not <c>example.com</c> itself). Empty, the default, allows nothing.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>
    /// Private, loopback, link-local and other non-public networks (CIDR, e.g. <c>10.1.2.0/24</c>) an allowed host may
    /// resolve to. Empty by default: a host resolving into any non-public network is refused.
    /// </summary>
    public List<string> AllowedPrivateNetworks { get; set; } = [];

    /// <summary>Bytes of response body read (after decompression); the rest is cut off and the result says so.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 256 * 1024;

    /// <summary>The whole fetch, redirects and body included.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Redirects followed; each target is checked like the first URL.</summary>
    [Range(0, 10)]
    public int MaxRedirects { get; set; } = 5;
}

/// <summary>The <c>run_code</c> tool's gVisor sandbox (section <c>Tools:RunCode</c>).</summary>
public sealed class RunCodeOptions
{
    public const string SectionName = "Tools:RunCode";

    /// <summary>The gVisor runtime: a file name looked up on PATH, or an absolute path.</summary>
    [Required, MinLength(1)]
    public string RunscPath { get; set; } = "runsc";

    /// <summary>The Python 3 interpreter, a host path the sandbox sees read-only (see <see cref="AdditionalReadOnlyPaths"/>).</summary>
    [Required, MinLength(1)]
    public string PythonPath { get; set; } = "/usr/bin/python3";

    /// <summary>The bash interpreter; empty disables the <c>bash</c> language.</summary>
    public string? BashPath { get; set; } = "/bin/bash";

    /// <summary>Wall-clock limit of one run; the sandbox is killed when it passes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Address space of each process in the sandbox; the sandbox as a whole gets this plus its kernel's overhead.</summary>
    [Range(32, 16 * 1024)]
    public int MemoryLimitMiB { get; set; } = 256;

    /// <summary>CPU cores the sandbox may use (a CFS quota).</summary>
    [Range(0.1, 64)]
    public double CpuLimit { get; set; } = 1;

    /// <summary>Bytes kept of stdout and of stderr each; the rest is dropped and the result says so.</summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int MaxOutputBytes { get; set; } = 64 * 1024;

    /// <summary>Characters of code one call may submit.</summary>
    [Range(1, 1024 * 1024)]
    public int MaxCodeLength { get; set; } = 64 * 1024;

    /// <summary>Sandboxes this worker runs at once; further calls wait.</summary>
    [Range(1, 64)]
    public int MaxConcurrentRuns { get; set; } = 2;

    /// <summary>Where each run's fresh directory (OCI bundle, code, runsc state) is made; the system temp folder when empty.</summary>
    public string? WorkingDirectoryRoot { get; set; }

    /// <summary>
    /// Host paths mounted read-only into the sandbox besides <see cref="GVisorSandbox.BaseReadOnlyPaths"/> (the system's
    /// programs and libraries), e.g. a directory of Python packages.
    /// </summary>
    public List<string> AdditionalReadOnlyPaths { get; set; } = [];

    /// <summary>Runs runsc without root (<c>--rootless</c>). Cgroups are then not configured: only the per-process limit applies.</summary>
    public bool Rootless { get; set; }

    /// <summary>Skips the sandbox's cgroup (<c>--ignore-cgroups</c>) where the worker may not create one.</summary>
    public bool IgnoreCgroups { get; set; }
}
