using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>How consumers retry an event before it is dead-lettered (section <c>Messaging:Consumers</c>).</summary>
public sealed class EventConsumerOptions
{
    public const string SectionName = "Messaging:Consumers";

    /// <summary>Handler attempts per delivery, the first included; after the last one the event is dead-lettered.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The pause after the first failed attempt; it doubles with every further attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
}
