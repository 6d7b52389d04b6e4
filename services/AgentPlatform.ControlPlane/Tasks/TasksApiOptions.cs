using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.ControlPlane.Tasks;

/// <summary>Settings of the tasks API (section <c>Tasks</c>).</summary>
public sealed class TasksApiOptions
{
    public const string SectionName = "Tasks";

    /// <summary>How often an open event stream looks for new events of its task.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan EventPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// An event stream that has sent nothing for this long sends a comment, so proxies and load balancers do not
    /// close it as idle.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan EventHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
}
