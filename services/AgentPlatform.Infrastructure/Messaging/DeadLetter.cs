using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Messaging;

/// <summary>
/// An event one subscription could not handle after its retries. The row is the durable, queryable record
/// (operators list and replay it); the same event is also published to the dead-letter topic.
/// </summary>
public sealed class DeadLetter : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public Guid EventId { get; set; }

    public required string Topic { get; set; }

    public required string Type { get; set; }

    /// <summary>The subscription (consumer group) that failed.</summary>
    public required string Subscription { get; set; }

    public string? Key { get; set; }

    public DateTime OccurredAt { get; set; }

    public required string Payload { get; set; }

    public required string Headers { get; set; }

    public int Attempts { get; set; }

    public required string Error { get; set; }

    public DateTime FailedAt { get; set; }

    public DateTime? ReplayedAt { get; set; }

    public int ReplayCount { get; set; }
}

internal sealed class DeadLetterConfiguration : IEntityTypeConfiguration<DeadLetter>
{
    public void Configure(EntityTypeBuilder<DeadLetter> builder)
    {
        builder.ToTable("dead_letters");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Topic).HasMaxLength(200);
        builder.Property(d => d.Type).HasMaxLength(200);
        builder.Property(d => d.Subscription).HasMaxLength(200);
        builder.Property(d => d.Key).HasMaxLength(200);
        builder.Property(d => d.Error).HasMaxLength(4000);
        builder.HasIndex(d => new { d.TenantId, d.FailedAt });
        // One dead letter per event and subscription: a redelivered failure updates it instead of duplicating.
        builder.HasIndex(d => new { d.EventId, d.Subscription }).IsUnique();
    }
}
