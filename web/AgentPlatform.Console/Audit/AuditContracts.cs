namespace AgentPlatform.Console.Audit;

// The control plane's audit API (camelCase, see services/AgentPlatform.ControlPlane/Audit/AuditApi.cs and
// AgentPlatform.Infrastructure/Audit/AuditTrail.cs).

/// <summary>
/// One entry of the tenant's hash-chained audit trail. <see cref="Hash"/> covers the record's fields and
/// <see cref="PreviousHash"/>; the states before and after the change are kept as digests, not in full.
/// </summary>
public sealed record AuditRecord(
    Guid Id,
    long Sequence,
    DateTime OccurredAt,
    string ActorType,
    string ActorId,
    string Action,
    string TargetType,
    string TargetId,
    string? BeforeDigest,
    string? AfterDigest,
    string? TraceId,
    string? Details,
    string PreviousHash,
    string Hash);

/// <summary>
/// The outcome of <c>GET /api/audit/verify</c>: the chain is intact (<see cref="IsValid"/>, <see cref="LastHash"/> its
/// head), or <see cref="FirstInvalidSequence"/> is the first record that breaks it and <see cref="Problem"/> says how.
/// </summary>
public sealed record AuditVerification(bool IsValid, long VerifiedRecords, string? LastHash, long? FirstInvalidSequence, string? Problem);
