using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure;

/// <summary>Settings shared by every service of one platform installation (section <c>Platform</c>).</summary>
public sealed class PlatformOptions
{
    public const string SectionName = "Platform";

    /// <summary>
    /// Where the embedded topology keeps its data: the SQLite database and the claim-check payloads. The
    /// AppHost points every service at the same directory.
    /// </summary>
    [Required]
    public string DataDirectory { get; set; } =
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "AgentPlatform");
}
