using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Console.Status;

/// <summary>The services whose health the status page shows (section <c>PlatformStatus</c>).</summary>
public sealed class PlatformStatusOptions
{
    public const string SectionName = "PlatformStatus";

    /// <summary>Service names, resolved through service discovery (<c>http://{name}/health</c>).</summary>
    [Required, MinLength(1)]
    public List<string> Services { get; set; } = ["controlplane", "modelgateway", "worker"];

    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
