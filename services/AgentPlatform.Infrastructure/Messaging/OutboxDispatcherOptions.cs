using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>How the outbox dispatcher moves events to the bus (section <c>Messaging:Outbox</c>).</summary>
public sealed class OutboxDispatcherOptions : IValidatableObject
{
    public const string SectionName = "Messaging:Outbox";

    /// <summary>
    /// How often the dispatcher looks for new events. It polls because the producers are other processes (every
    /// service writes the outbox, only the Worker dispatches it).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>The wait after the first failed publish; it doubles with every further failure.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest one batch may take to publish; a bus that hangs longer counts as down.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The dispatcher lease: one dispatcher per database, which is what keeps publish order equal to outbox order.
    /// Renewed before every batch, so it must outlast <see cref="PublishTimeout"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long dispatched rows stay in the outbox for diagnosis before they are purged.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeaseDuration <= PublishTimeout)
        {
            yield return new ValidationResult(
                $"{nameof(LeaseDuration)} must exceed {nameof(PublishTimeout)}, or the lease could lapse while a batch is being published.",
                [nameof(LeaseDuration), nameof(PublishTimeout)]);
        }

        if (MaxRetryDelay < RetryDelay)
        {
            yield return new ValidationResult($"{nameof(MaxRetryDelay)} must not be shorter than {nameof(RetryDelay)}.", [nameof(MaxRetryDelay)]);
        }
    }
}
