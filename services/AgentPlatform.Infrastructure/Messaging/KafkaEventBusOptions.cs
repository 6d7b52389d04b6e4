using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// The Kafka adapter's settings (section <c>Messaging:Kafka</c>). The bootstrap servers default to the
/// connection string <c>ConnectionStrings:kafka</c>, which is also what selects Kafka over the in-process bus.
/// </summary>
public sealed class KafkaEventBusOptions
{
    public const string SectionName = "Messaging:Kafka";

    [Required]
    public string? BootstrapServers { get; set; }

    /// <summary>Shown in broker logs and metrics; defaults to the application name.</summary>
    [Required]
    public string? ClientId { get; set; }

    /// <summary>
    /// How long the producer tries to deliver one message before it reports a failure. The outbox keeps the
    /// event either way; a shorter timeout only means the dispatcher notices an outage sooner.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Further librdkafka properties for every client, e.g. <c>security.protocol</c> and <c>sasl.mechanism</c>.
    /// They cannot weaken delivery: idempotence, <c>acks=all</c> and manual commits are always set.
    /// </summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);
}
