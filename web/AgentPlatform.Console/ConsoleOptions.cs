using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Console;

/// <summary>Settings of the console (section <c>Console</c>).</summary>
public sealed class ConsoleOptions
{
    public const string SectionName = "Console";

    /// <summary>The control plane (token endpoint and REST API), through service discovery.</summary>
    [Required]
    public Uri ControlPlaneUrl { get; set; } = new("http://controlplane");

    /// <summary>
    /// A link to a trace, with <c>{traceId}</c> where the trace id goes (e.g. the Aspire dashboard's or Jaeger's
    /// trace view). Unset: trace ids are shown as plain text.
    /// </summary>
    public string? TraceUrlTemplate { get; set; }

    /// <summary>A signed-in session ends after this long without a request.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "1.00:00:00")]
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>An access token that expires within this margin is refreshed before it is used.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:05:00")]
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest file a task's input can be read from (the gateway takes API bodies up to 16 MiB).</summary>
    [Range(1024, 8 * 1024 * 1024)]
    public int MaxInputFileBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The trace link for <paramref name="traceId"/>, or null when no template is configured.</summary>
    public string? TraceUrl(string? traceId) =>
        string.IsNullOrWhiteSpace(TraceUrlTemplate) || string.IsNullOrEmpty(traceId)
            ? null
            : TraceUrlTemplate.Replace("{traceId}", Uri.EscapeDataString(traceId), StringComparison.Ordinal);
}
