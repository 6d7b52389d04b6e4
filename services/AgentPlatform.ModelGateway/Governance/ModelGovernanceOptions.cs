using System.ComponentModel.DataAnnotations;

namespace AgentPlatform.ModelGateway.Governance;

/// <summary>How budgets are read and reserved (section <c>ModelGateway:Governance</c>).</summary>
public sealed class ModelGovernanceOptions
{
    public const string SectionName = "ModelGateway:Governance";

    /// <summary>
    /// How long a caller's budget limits are served after they were read, at most: an admin change is seen within this.
    /// They are read again in the background after half of it (ADR 11), so calls do not wait for the database.
    /// </summary>
    public TimeSpan BudgetCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many output tokens (at the serving price) a stream reserves at once when it outgrows its reservation,
    /// so a long stream asks the counters store every few chunks rather than every chunk.
    /// </summary>
    [Range(1, 1_000_000)]
    public int StreamExtensionTokens { get; set; } = 1_024;

    /// <summary>How long a counters-store call may take before it counts as failed.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Request and token rate limits (section <c>ModelGateway:RateLimits</c>): one set for the whole tenant, one for
/// each caller (API key, or the token's subject when there is no key), and per-tenant overrides under
/// <c>Tenants:{tenantId}</c>. A limit left empty does not apply.
/// </summary>
public sealed class ModelRateLimitOptions
{
    public const string SectionName = "ModelGateway:RateLimits";

    public RateLimitSettings Tenant { get; set; } = new();

    public RateLimitSettings Caller { get; set; } = new();

    /// <summary>Overrides by tenant id; a value set here replaces the default of the same name.</summary>
    public Dictionary<string, TenantRateLimitOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>After the counters store failed, how long calls pass without rate limits before it is asked again.</summary>
    public TimeSpan FailOpenDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The limits that apply to <paramref name="tenantId"/>'s tenant-wide and per-caller counters.</summary>
    public (RateLimitSettings Tenant, RateLimitSettings Caller) For(string tenantId) =>
        Tenants.TryGetValue(tenantId, out var overrides)
            ? (Tenant.OverriddenBy(overrides.Tenant), Caller.OverriddenBy(overrides.Caller))
            : (Tenant, Caller);
}

public sealed class TenantRateLimitOptions
{
    public RateLimitSettings? Tenant { get; set; }

    public RateLimitSettings? Caller { get; set; }
}

public sealed class RateLimitSettings
{
    [Range(1, int.MaxValue)]
    public int? RequestsPerMinute { get; set; }

    /// <summary>Input tokens (estimated before the call, settled to the real count after) plus output tokens.</summary>
    [Range(1, long.MaxValue)]
    public long? TokensPerMinute { get; set; }

    public RateLimitSettings OverriddenBy(RateLimitSettings? overrides) => overrides is null ? this : new()
    {
        RequestsPerMinute = overrides.RequestsPerMinute ?? RequestsPerMinute,
        TokensPerMinute = overrides.TokensPerMinute ?? TokensPerMinute,
    };
}
