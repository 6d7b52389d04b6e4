using AgentPlatform.Domain.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentPlatform.Infrastructure.Tasks;

/// <summary>
/// A task a tenant submitted: its input (inline or by claim check), where its run is, and its result. The
/// embedded runner claims it with a lease (<see cref="LeaseOwner"/> until <see cref="LeaseExpiresAt"/>); a
/// lease that is not renewed lets another worker take the task over and resume it from its journal
/// (<see cref="TaskStep"/>).
/// </summary>
public sealed class AgentTask : ITenantOwned
{
    public Guid Id { get; set; }

    public required string TenantId { get; set; }

    /// <summary><c>queued</c>, <c>running</c>, <c>completed</c>, <c>failed</c> or <c>cancelled</c>.</summary>
    public required string Status { get; set; }

    /// <summary><c>text/plain</c> or <c>application/json</c>.</summary>
    public required string InputContentType { get; set; }

    /// <summary>The input when it is at most the claim-check threshold; otherwise <see cref="InputRefId"/>.</summary>
    public string? Input { get; set; }

    public string? InputRefId { get; set; }

    public long InputSize { get; set; }

    /// <summary>Sub-agents the submitter suggested; the router prefers them.</summary>
    public List<string> SubAgentHints { get; set; } = [];

    public int? TokenBudget { get; set; }

    /// <summary>0 (lowest) to 9; runners claim higher priorities first.</summary>
    public int Priority { get; set; }

    public string? IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the request body, to tell a retry from a different request under the same key.</summary>
    public required string RequestHash { get; set; }

    /// <summary>The submitter's subject (user, client or API key).</summary>
    public required string SubmittedBy { get; set; }

    /// <summary>The user the task's model calls are charged to: the submitter, or the creator of the submitting API key.</summary>
    public string? ChargedUserId { get; set; }

    /// <summary>The W3C trace id of the submission; the run continues that trace.</summary>
    public required string TraceId { get; set; }

    /// <summary>The submission's span context (<c>traceparent</c>), parent of the run's spans.</summary>
    public string? TraceParent { get; set; }

    /// <summary>The Main Agent definition and version that runs the task.</summary>
    public required string MainAgentId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? CompletedAt { get; set; }

    public DateTime? CancelRequestedAt { get; set; }

    /// <summary>The answer when it is at most the claim-check threshold; otherwise <see cref="ResultRefId"/>.</summary>
    public string? Result { get; set; }

    public string? ResultRefId { get; set; }

    public long? ResultSize { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    public double? JudgeScore { get; set; }

    public bool? JudgePassed { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CostMicros { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>How many times a runner has started (or resumed) the task.</summary>
    public int Runs { get; set; }
}

internal sealed class AgentTaskConfiguration : IEntityTypeConfiguration<AgentTask>
{
    public void Configure(EntityTypeBuilder<AgentTask> builder)
    {
        builder.ToTable("tasks");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Status).HasMaxLength(20);
        builder.Property(t => t.InputContentType).HasMaxLength(100);
        builder.Property(t => t.InputRefId).HasMaxLength(100);
        builder.Property(t => t.IdempotencyKey).HasMaxLength(200);
        builder.Property(t => t.RequestHash).HasMaxLength(64);
        builder.Property(t => t.SubmittedBy).HasMaxLength(200);
        builder.Property(t => t.ChargedUserId).HasMaxLength(100);
        builder.Property(t => t.TraceId).HasMaxLength(32);
        builder.Property(t => t.TraceParent).HasMaxLength(100);
        builder.Property(t => t.MainAgentId).HasMaxLength(200);
        builder.Property(t => t.ResultRefId).HasMaxLength(100);
        builder.Property(t => t.ErrorCode).HasMaxLength(100);
        builder.Property(t => t.ErrorMessage).HasMaxLength(4000);
        builder.Property(t => t.LeaseOwner).HasMaxLength(200);
        builder.HasIndex(t => new { t.TenantId, t.IdempotencyKey }).IsUnique();
        builder.HasIndex(t => new { t.TenantId, t.CreatedAt });
        builder.HasIndex(t => new { t.TenantId, t.Status, t.CreatedAt });
        // The runners' claim query: unfinished tasks by lease expiry.
        builder.HasIndex(t => new { t.Status, t.LeaseExpiresAt });
    }
}
