using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Tasks;

/// <summary>
/// The journal of a task's run: one row per finished step (succeeded or failed for good), keyed by the
/// step's deterministic key (<c>plan</c>, <c>sub-agent/2</c> …). A runner replaying the flow after a restart
/// returns a journaled step's output instead of running it again.
/// </summary>
public sealed class TaskStep : ITenantOwned
{
    public Guid TaskId { get; set; }

    public required string Key { get; set; }

    public required string TenantId { get; set; }

    public required string Activity { get; set; }

    /// <summary><c>succeeded</c> or <c>failed</c>.</summary>
    public required string Status { get; set; }

    /// <summary>The activity's output as JSON (within the claim-check threshold).</summary>
    public string? Output { get; set; }

    public string? Error { get; set; }

    public int Attempts { get; set; }

    public string? SubAgentId { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime CompletedAt { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CostMicros { get; set; }
}

internal sealed class TaskStepConfiguration : IEntityTypeConfiguration<TaskStep>
{
    public void Configure(EntityTypeBuilder<TaskStep> builder)
    {
        builder.ToTable("task_steps");
        builder.HasKey(s => new { s.TaskId, s.Key });
        builder.Property(s => s.Key).HasMaxLength(200);
        builder.Property(s => s.Activity).HasMaxLength(50);
        builder.Property(s => s.Status).HasMaxLength(20);
        builder.Property(s => s.Error).HasMaxLength(4000);
        builder.Property(s => s.SubAgentId).HasMaxLength(200);
        builder.HasOne<AgentTask>().WithMany().HasForeignKey(s => s.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}
