namespace AgentPlatform.Infrastructure.Audit;

/// <summary>
/// What a state-changing call did, for the audit trail. <see cref="Before"/> and <see cref="After"/> are
/// stored only as SHA-256 digests of their JSON; <see cref="Details"/> is stored as JSON and must never hold a
/// secret.
/// </summary>
public sealed record AuditEntry(string Action, string TargetType, string TargetId)
{
    public object? Before { get; init; }

    public object? After { get; init; }

    public object? Details { get; init; }

    /// <summary>Who acted; the request's authenticated caller when null.</summary>
    public AuditActor? Actor { get; init; }
}

/// <summary>Who performed an audited action.</summary>
public sealed record AuditActor(string Type, string Id)
{
    public const string User = "user";
    public const string Client = "client";
    public const string ApiKey = "api-key";
    public const string Anonymous = "anonymous";

    public static AuditActor System { get; } = new("system", "platform");
}
