using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.Infrastructure.ClaimCheck;

/// <summary>Settings of the claim check (section <c>ClaimCheck</c>).</summary>
public sealed class ClaimCheckOptions
{
    public const string SectionName = "ClaimCheck";

    /// <summary>How long a payload is kept when the caller names no time to live.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan DefaultTimeToLive { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The longest time to live a caller may ask for.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan MaxTimeToLive { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Payloads larger than this travel as a reference instead of inline.</summary>
    [Range(1, int.MaxValue)]
    public int InlineThresholdBytes { get; set; } = 32 * 1024;

    /// <summary>How often the cleanup removes expired payloads.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long bytes outlive their last reference before cleanup deletes them. It absorbs clock skew between
    /// instances and lets reads that started just before the expiry finish.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan CleanupGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Rows the cleanup deletes per statement, to keep each transaction short.</summary>
    [Range(1, 10_000)]
    public int CleanupBatchSize { get; set; } = 500;
}
