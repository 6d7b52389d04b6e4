using System.ComponentModel.DataAnnotations;
using AgentPlatform.ControlPlane.Api;
using AgentPlatform.Domain.Identity;
using AgentPlatform.Infrastructure.Audit;
using AgentPlatform.Infrastructure.Persistence;
using AgentPlatform.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentPlatform.ControlPlane.Audit;

public sealed record AuditRecordResponse(
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
    string Hash)
{
    public static AuditRecordResponse From(AuditRecord r) => new(
        r.Id, r.Sequence, r.OccurredAt, r.ActorType, r.ActorId, r.Action, r.TargetType, r.TargetId, r.BeforeDigest, r.AfterDigest,
        r.TraceId, r.Details, r.PreviousHash, r.Hash);
}

public sealed record AuditQuery
{
    [StringLength(100)]
    public string? Action { get; init; }

    [StringLength(200)]
    public string? ActorId { get; init; }

    [StringLength(100)]
    public string? TargetType { get; init; }

    [StringLength(200)]
    public string? TargetId { get; init; }

    [StringLength(32)]
    public string? TraceId { get; init; }

    /// <summary>Occurred at or after (UTC).</summary>
    public DateTime? From { get; init; }

    /// <summary>Occurred before (UTC).</summary>
    public DateTime? To { get; init; }
}

/// <summary>The tenant's audit trail: search it, read a record, verify the hash chain.</summary>
public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        var audit = endpoints.MapGroup("/api/audit").WithTags("Audit").RequirePermission(Permissions.AuditRead);
        audit.MapGet("/", SearchAsync);
        audit.MapGet("/{id:guid}", GetAsync);
        audit.MapGet("/verify", VerifyAsync);
        return endpoints;
    }

    /// <summary>Newest first.</summary>
    public static async Task<Ok<PagedResult<AuditRecordResponse>>> SearchAsync(
        [AsParameters] PageQuery page, [AsParameters] AuditQuery query, AgentPlatformDbContext db, CancellationToken cancellationToken)
    {
        var records = db.AuditRecords.AsNoTracking();
        if (query.Action is { } action)
        {
            records = records.Where(r => r.Action == action);
        }

        if (query.ActorId is { } actorId)
        {
            records = records.Where(r => r.ActorId == actorId);
        }

        if (query.TargetType is { } targetType)
        {
            records = records.Where(r => r.TargetType == targetType);
        }

        if (query.TargetId is { } targetId)
        {
            records = records.Where(r => r.TargetId == targetId);
        }

        if (query.TraceId is { } traceId)
        {
            records = records.Where(r => r.TraceId == traceId);
        }

        if (query.From is { } from)
        {
            var fromUtc = from.ToUniversalTime();
            records = records.Where(r => r.OccurredAt >= fromUtc);
        }

        if (query.To is { } to)
        {
            var toUtc = to.ToUniversalTime();
            records = records.Where(r => r.OccurredAt < toUtc);
        }

        return TypedResults.Ok(await records.OrderByDescending(r => r.Sequence).ToPagedResultAsync(page, AuditRecordResponse.From, cancellationToken));
    }

    public static async Task<Results<Ok<AuditRecordResponse>, ProblemHttpResult>> GetAsync(Guid id, AgentPlatformDbContext db, CancellationToken cancellationToken) =>
        await db.AuditRecords.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken) is { } record
            ? TypedResults.Ok(AuditRecordResponse.From(record))
            : Problems.NotFound("The audit record");

    public static async Task<Ok<AuditVerification>> VerifyAsync(AuditTrail auditTrail, CancellationToken cancellationToken) =>
        TypedResults.Ok(await auditTrail.VerifyAsync(cancellationToken));
}
