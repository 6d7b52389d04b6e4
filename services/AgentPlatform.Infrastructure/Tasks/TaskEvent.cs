using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Tasks;

/// <summary>
/// A progress event of a task, as <c>GET /api/tasks/{id}/events</c> streams it: <see cref="Id"/> is the SSE
/// event id a client resumes from (<c>Last-Event-ID</c>). <see cref="Key"/> makes writing an event
/// idempotent: a step that runs again after a crash does not report the same thing twice.
/// </summary>
public sealed class TaskEvent : ITenantOwned
{
    public long Id { get; set; }

    public Guid TaskId { get; set; }

    public required string TenantId { get; set; }

    /// <summary>For example <c>planned</c>, <c>sub-agent.finished</c>, <c>completed</c>.</summary>
    public required string Type { get; set; }

    public required string Key { get; set; }

    /// <summary>The event's data as JSON (within the claim-check threshold).</summary>
    public required string Data { get; set; }

    public DateTime OccurredAt { get; set; }
}

internal sealed class TaskEventConfiguration : IEntityTypeConfiguration<TaskEvent>
{
    public void Configure(EntityTypeBuilder<TaskEvent> builder)
    {
        builder.ToTable("task_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.Type).HasMaxLength(50);
        builder.Property(e => e.Key).HasMaxLength(200);
        builder.HasIndex(e => new { e.TaskId, e.Key }).IsUnique();
        builder.HasIndex(e => new { e.TaskId, e.Id });
        builder.HasOne<AgentTask>().WithMany().HasForeignKey(e => e.TaskId).OnDelete(DeleteBehavior.Cascade);
    }
}
