using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Models;

/// <summary>
/// One model call as governance saw it: who, which ids, what was asked and served, every attempt, tokens,
/// cost and latency. Written for every call, refused or not.
/// </summary>
public sealed class ModelUsageRecord : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    public DateTime OccurredAt { get; set; }

    /// <summary>The UTC day of <see cref="OccurredAt"/>, for per-day reports.</summary>
    public DateOnly Day { get; set; }

    public required string Subject { get; set; }

    public string? UserId { get; set; }

    public string? ApiKeyId { get; set; }

    /// <summary><c>chat</c> or <c>embeddings</c>.</summary>
    public required string Operation { get; set; }

    public required string ModelRequested { get; set; }

    public string? ModelServed { get; set; }

    public string? Deployment { get; set; }

    public bool Streamed { get; set; }

    public int AttemptCount { get; set; }

    /// <summary>Every attempt (deployment, outcome, status, duration) as JSON.</summary>
    public required string Attempts { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CachedInputTokens { get; set; }

    /// <summary>Cost in micro-units of the platform currency.</summary>
    public long CostMicros { get; set; }

    public double LatencyMilliseconds { get; set; }

    /// <summary><c>ok</c>, <c>error</c>, <c>budget-exceeded</c>, <c>rate-limited</c>, <c>cancelled</c>, …</summary>
    public required string Outcome { get; set; }

    public int StatusCode { get; set; }

    public bool DryRun { get; set; }

    public bool Offline { get; set; }

    public string? TraceId { get; set; }

    public string? TaskId { get; set; }

    public string? MainAgentId { get; set; }

    public string? SubAgentId { get; set; }
}

internal sealed class ModelUsageRecordConfiguration : IEntityTypeConfiguration<ModelUsageRecord>
{
    public void Configure(EntityTypeBuilder<ModelUsageRecord> builder)
    {
        builder.ToTable("model_usage");
        builder.HasKey(u => u.Id);
        builder.HasIndex(u => new { u.TenantId, u.Day });
        builder.HasIndex(u => new { u.TenantId, u.ApiKeyId, u.Day });
        builder.HasIndex(u => new { u.TenantId, u.ModelRequested, u.Day });
        builder.HasIndex(u => new { u.TenantId, u.TaskId });
        builder.Property(u => u.Subject).HasMaxLength(200);
        builder.Property(u => u.UserId).HasMaxLength(100);
        builder.Property(u => u.ApiKeyId).HasMaxLength(100);
        builder.Property(u => u.Operation).HasMaxLength(20);
        builder.Property(u => u.ModelRequested).HasMaxLength(200);
        builder.Property(u => u.ModelServed).HasMaxLength(200);
        builder.Property(u => u.Deployment).HasMaxLength(100);
        builder.Property(u => u.Attempts).HasMaxLength(8000);
        builder.Property(u => u.Outcome).HasMaxLength(40);
        builder.Property(u => u.TraceId).HasMaxLength(32);
        builder.Property(u => u.TaskId).HasMaxLength(100);
        builder.Property(u => u.MainAgentId).HasMaxLength(200);
        builder.Property(u => u.SubAgentId).HasMaxLength(200);
    }
}
